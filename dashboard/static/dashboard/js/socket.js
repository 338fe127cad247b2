// One websocket to ws/tasks/status/ for the whole page, authenticated by the session cookie.
//
// It re-subscribes to every watched job after a reconnect (the server answers a subscribe
// with the job's current state, so nothing finished in between is missed) and tells its
// listeners when it goes down, so they can fall back to polling.

const RECONNECT_DELAYS_MS = [1000, 2000, 5000, 10000, 30000];
const CONNECT_TIMEOUT_MS = 3000;

export function socketUrl(path = "/ws/tasks/status/") {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${window.location.host}${path}`;
}

export class JobSocket extends EventTarget {
  constructor(url = socketUrl()) {
    super();
    this.url = url;
    this.ws = null;
    this.subscriptions = new Set();
    this.failures = 0;
    this.reconnectTimer = null;
  }

  get isOpen() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  connect() {
    if (this.ws !== null || this.reconnectTimer !== null) return;
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.addEventListener("open", () => {
      this.failures = 0;
      for (const taskId of this.subscriptions) this.sendSubscribe(taskId);
      this.dispatchEvent(new Event("open"));
    });
    ws.addEventListener("message", (event) => this.receive(event.data));
    ws.addEventListener("close", () => {
      this.ws = null;
      this.failures += 1;
      this.dispatchEvent(new Event("down"));
      this.scheduleReconnect();
    });
  }

  scheduleReconnect() {
    if (this.reconnectTimer !== null) return;
    const delay = RECONNECT_DELAYS_MS[Math.min(this.failures, RECONNECT_DELAYS_MS.length - 1)];
    this.reconnectTimer = window.setTimeout(() => {
      this.reconnectTimer = null;
      this.connect();
    }, delay);
  }

  receive(raw) {
    let message;
    try {
      message = JSON.parse(raw);
    } catch {
      return;
    }
    if (message && message.type === "task.update") {
      this.dispatchEvent(new CustomEvent("update", { detail: message }));
    } else if (message && message.type === "saved_search.news") {
      this.dispatchEvent(new CustomEvent("saved-search-news", { detail: message }));
    }
  }

  sendSubscribe(taskId) {
    if (this.isOpen) this.ws.send(JSON.stringify({ action: "subscribe", task_id: taskId }));
  }

  subscribe(taskId) {
    this.subscriptions.add(taskId);
    this.sendSubscribe(taskId);
    this.connect();
  }

  unsubscribe(taskId) {
    this.subscriptions.delete(taskId);
  }

  /** Resolves true once the socket is open, false if it is down or slow to open. */
  ready(timeoutMs = CONNECT_TIMEOUT_MS) {
    if (this.isOpen) return Promise.resolve(true);
    this.connect();
    return new Promise((resolve) => {
      const done = (value) => {
        window.clearTimeout(timer);
        this.removeEventListener("open", onOpen);
        this.removeEventListener("down", onDown);
        resolve(value);
      };
      const onOpen = () => done(true);
      const onDown = () => done(false);
      const timer = window.setTimeout(() => done(this.isOpen), timeoutMs);
      this.addEventListener("open", onOpen);
      this.addEventListener("down", onDown);
    });
  }
}

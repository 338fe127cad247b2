// The life of one async job:
// submit → (cached? done) → live progress over the websocket, or polling when the socket is
// unavailable → fetch the result by cache key.

import { ApiError, NetworkError, UNREACHABLE_MESSAGE, get, post } from "./api.js";

const BASE = "/api/v1/data-processing/tasks";

// The job kinds (kind → {label, submit_url}), rendered into the page from the server's
// job-kind registry, the same list `GET /api/v1/data-processing/kinds/` answers.
export const JOB_KINDS = new Map(
  JSON.parse(document.getElementById("job-kinds").textContent).map((spec) => [spec.kind, spec]),
);

export const ACTIVE_STATES = new Set(["PENDING", "STARTED", "PROGRESS", "RETRY"]);
export const TERMINAL_STATES = new Set(["SUCCESS", "FAILURE", "REVOKED"]);

const POLL_INTERVAL_MS = 1000;
const MAX_POLL_INTERVAL_MS = 5000;
// With the socket open, a slow status poll is only a safety net against a lost message.
const SAFETY_POLL_INTERVAL_MS = 10000;
const RESULT_NOT_READY_RETRIES = 10;

export class JobFailed extends Error {
  constructor(message, { state = "FAILURE", taskId = null, detail = null } = {}) {
    super(message);
    this.name = "JobFailed";
    this.state = state;
    this.taskId = taskId;
    this.detail = detail;
  }
}

export class ResultExpired extends Error {
  constructor(message) {
    super(message || "The result expired; submit the request again.");
    this.name = "ResultExpired";
  }
}

const sleep = (ms) => new Promise((resolve) => window.setTimeout(resolve, ms));

export const statusUrl = (taskId) => `${BASE}/status/?task_id=${encodeURIComponent(taskId)}`;
export const resultUrl = (cacheKey) => `${BASE}/result/?cache_key=${encodeURIComponent(cacheKey)}`;
export const jobUrl = (taskId) => `${BASE}/${encodeURIComponent(taskId)}/`;

// --- Requests remembered per job, so a job's result can be paged or re-sorted later ----------

const REMEMBERED_KEY = "philgeps.dashboard.jobRequests";
const REMEMBERED_MAX = 50;

function rememberedRequests() {
  try {
    return JSON.parse(window.localStorage.getItem(REMEMBERED_KEY)) || {};
  } catch {
    return {};
  }
}

export function rememberRequest(taskId, kind, body) {
  const all = rememberedRequests();
  all[taskId] = { kind, body, at: Date.now() };
  const newest = Object.entries(all)
    .sort(([, a], [, b]) => b.at - a.at)
    .slice(0, REMEMBERED_MAX);
  try {
    window.localStorage.setItem(REMEMBERED_KEY, JSON.stringify(Object.fromEntries(newest)));
  } catch {
    // Storage full or disabled: paging an old job's result is then unavailable, nothing more.
  }
}

export function rememberedRequest(taskId) {
  return rememberedRequests()[taskId] || null;
}

// --- Watching a job ----------------------------------------------------------------------------

/**
 * Follow a job until it reaches a terminal state. Updates come from the websocket; when the
 * socket is down (or never opens) the status endpoint is polled instead. Resolves with the
 * final update; `onUpdate` receives every update, progress never going backwards.
 */
export function watchJob(socket, taskId, onUpdate) {
  return new Promise((resolve, reject) => {
    let finished = false;
    let timer = null;
    let failures = 0;
    let highest = 0;

    const deliver = (update) => {
      if (finished || (update.task_id && update.task_id !== taskId)) return;
      highest = Math.max(highest, Number(update.progress) || 0);
      const shown = { ...update, progress: update.state === "SUCCESS" ? 100 : highest };
      onUpdate(shown);
      if (TERMINAL_STATES.has(update.state)) finish(() => resolve(shown));
    };
    const onSocketUpdate = (event) => deliver(event.detail);
    const onSocketDown = () => schedulePoll(0);

    function finish(then) {
      finished = true;
      window.clearTimeout(timer);
      socket.removeEventListener("update", onSocketUpdate);
      socket.removeEventListener("down", onSocketDown);
      socket.unsubscribe(taskId);
      then();
    }

    function schedulePoll(delay) {
      if (finished) return;
      window.clearTimeout(timer);
      const backoff = Math.min(POLL_INTERVAL_MS * 2 ** failures, MAX_POLL_INTERVAL_MS);
      timer = window.setTimeout(poll, delay ?? (socket.isOpen ? SAFETY_POLL_INTERVAL_MS : backoff));
    }

    async function poll() {
      try {
        const { body } = await get(statusUrl(taskId));
        failures = 0;
        deliver(body);
      } catch (error) {
        if (error instanceof NetworkError) {
          failures += 1;
          onUpdate({ state: "UNREACHABLE", progress: highest, status: `${UNREACHABLE_MESSAGE} Retrying…` });
        } else {
          finish(() => reject(error));
          return;
        }
      }
      schedulePoll();
    }

    socket.addEventListener("update", onSocketUpdate);
    socket.addEventListener("down", onSocketDown);
    socket.subscribe(taskId);
    socket.ready().then((open) => schedulePoll(open ? SAFETY_POLL_INTERVAL_MS : 0));
  });
}

// --- Results -----------------------------------------------------------------------------------

/** The cached result of a finished job; throws ResultExpired (410) or JobFailed (409). */
export async function fetchResult(cacheKey) {
  for (let attempt = 0; ; attempt += 1) {
    const { status, body } = await get(resultUrl(cacheKey), { expect: [202, 409, 410] });
    if (status === 200) return body.data;
    if (status === 202 && attempt < RESULT_NOT_READY_RETRIES) {
      await sleep(POLL_INTERVAL_MS);
      continue;
    }
    if (status === 410) throw new ResultExpired(body.message);
    if (status === 409) {
      const state = body.status === "revoked" ? "REVOKED" : "FAILURE";
      throw new JobFailed(body.error ? `${body.message} ${body.error}` : body.message, {
        state,
        taskId: body.task_id,
        detail: body.error,
      });
    }
    throw new ApiError({ status, code: "not_ready", message: body?.message || "The result is not ready yet." });
  }
}

/**
 * Submit a job and see it through. Resolves with {data, taskId, cached}.
 * `onUpdate({state, progress, status})` drives the progress UI; `onSubmitted(answer)` sees the
 * 202 answer (task id, cache key) before the job finishes.
 */
export async function runJob(socket, kind, body, { onUpdate = () => {}, onSubmitted = () => {} } = {}) {
  onUpdate({ state: "SUBMITTING", progress: 0, status: "Submitting…" });
  const { body: answer } = await post(JOB_KINDS.get(kind).submit_url, body);
  if (answer.status === "cached") {
    onUpdate({ state: "SUCCESS", progress: 100, status: "Loaded from cache." });
    return { data: answer.data, taskId: answer.task_id, cached: true };
  }
  rememberRequest(answer.task_id, kind, body);
  onSubmitted(answer);
  onUpdate({ state: answer.state || "PENDING", progress: 0, status: answer.message || "Queued." });
  const final = await watchJob(socket, answer.task_id, onUpdate);
  if (final.state === "FAILURE") {
    throw new JobFailed(final.error || final.status || "The job failed.", {
      taskId: answer.task_id,
      detail: final.error,
    });
  }
  if (final.state === "REVOKED") {
    throw new JobFailed("The job was cancelled.", { state: "REVOKED", taskId: answer.task_id });
  }
  // A small answer comes with the SUCCESS update on the socket; otherwise it is read.
  const data = "data" in final ? final.data : await fetchResult(final.cache_key || answer.cache_key);
  return { data, taskId: answer.task_id, cached: false };
}

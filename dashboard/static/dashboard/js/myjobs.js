// "My jobs": the caller's recent jobs with state and progress, kept live by the websocket
// (or by polling while it is down). Queued and running jobs can be cancelled; failed ones say
// why; a finished job's result can be shown again, or says that it expired.

import { ApiError, LatestAnswer, NetworkError, UNREACHABLE_MESSAGE, del } from "./api.js";
import { h, timestamp } from "./format.js";
import { ACTIVE_STATES, JOB_KINDS, JobFailed, ResultExpired, fetchResult, jobUrl } from "./jobs.js";

const LIST_URL = "/api/v1/data-processing/tasks/?page_size=10";
const REFRESH_DELAY_MS = 400;
const POLL_WHILE_SOCKET_DOWN_MS = 3000;

const STATE_LABELS = {
  PENDING: "Queued",
  STARTED: "Running",
  PROGRESS: "Running",
  RETRY: "Retrying",
  SUCCESS: "Done",
  FAILURE: "Failed",
  REVOKED: "Cancelled",
};

export class MyJobsPanel {
  constructor(root, { socket, onView = () => {}, announce = () => {} }) {
    this.root = root;
    this.socket = socket;
    this.onView = onView;
    this.announce = announce;
    this.list = root.querySelector("[data-jobs-list]");
    this.message = root.querySelector("[data-jobs-message]");
    this.jobs = [];
    this.lists = new LatestAnswer(LIST_URL);
    this.notes = new Map();
    this.refreshTimer = null;
    this.pollTimer = null;
    // Per list request in flight, the updates that arrived meanwhile (see refresh).
    this.inFlight = new Set();

    root.querySelector("[data-jobs-refresh]").addEventListener("click", () => this.refresh());
    socket.addEventListener("update", (event) => this.applyUpdate(event.detail));
    socket.addEventListener("down", () => this.pollWhileSocketDown());
    socket.addEventListener("open", () => this.refresh());
  }

  async refresh() {
    window.clearTimeout(this.refreshTimer);
    this.refreshTimer = null;
    const arrivedMeanwhile = [];
    this.inFlight.add(arrivedMeanwhile);
    try {
      const answer = await this.lists.get();
      if (answer === null) return; // a list asked for later is already shown
      this.jobs = answer.body.results;
      this.inFlight.delete(arrivedMeanwhile);
      // The list was read when it was asked for: an update that arrived on the socket since
      // may be newer (a job's SUCCESS, say), and nothing would send it again.
      for (const update of arrivedMeanwhile) this.applyIfAhead(update);
      this.message.textContent = this.jobs.length ? "" : "No jobs yet.";
      this.render();
    } catch (error) {
      this.message.textContent = error instanceof NetworkError ? UNREACHABLE_MESSAGE : error.message;
    } finally {
      this.inFlight.delete(arrivedMeanwhile);
    }
    this.pollWhileSocketDown();
  }

  /** An update applied over the list only if it moves its job on: to a final state, or further. */
  applyIfAhead(update) {
    const job = this.jobs.find((candidate) => candidate.task_id === update.task_id);
    if (!job || !ACTIVE_STATES.has(job.state)) return;
    if (!ACTIVE_STATES.has(update.state) || (update.progress ?? 0) >= job.progress) this.applyUpdate(update);
  }

  scheduleRefresh() {
    if (this.refreshTimer === null) this.refreshTimer = window.setTimeout(() => this.refresh(), REFRESH_DELAY_MS);
  }

  pollWhileSocketDown() {
    window.clearTimeout(this.pollTimer);
    if (this.socket.isOpen || !this.jobs.some((job) => ACTIVE_STATES.has(job.state))) return;
    this.pollTimer = window.setTimeout(() => this.refresh(), POLL_WHILE_SOCKET_DOWN_MS);
  }

  /** A job this page just submitted (its 202 answer): show it at once, before the next refresh. */
  noteSubmitted(answer, kind) {
    if (!this.jobs.some((job) => job.task_id === answer.task_id)) {
      this.jobs.unshift({
        task_id: answer.task_id,
        kind,
        state: answer.state || "PENDING",
        progress: 0,
        status: answer.message,
        cache_key: answer.cache_key,
        error: null,
        created_at: new Date().toISOString(),
        download_url: null,
      });
      this.message.textContent = "";
      this.render();
    }
    this.scheduleRefresh();
  }

  applyUpdate(update) {
    for (const arrivedMeanwhile of this.inFlight) arrivedMeanwhile.push(update);
    const job = this.jobs.find((candidate) => candidate.task_id === update.task_id);
    if (!job) {
      this.scheduleRefresh();
      return;
    }
    Object.assign(job, {
      state: update.state ?? job.state,
      progress: update.progress ?? job.progress,
      status: update.status ?? job.status,
      error: update.error ?? job.error,
      cache_key: update.cache_key ?? job.cache_key,
    });
    // The download link appears only in the status document: fetch it once an export finishes.
    if (job.kind === "export" && job.state === "SUCCESS" && !job.download_url) this.scheduleRefresh();
    this.renderItem(job);
  }

  render() {
    const focusedId = this.root.contains(document.activeElement) ? this.focusKey() : null;
    this.list.replaceChildren(...this.jobs.map((job) => this.item(job)));
    if (focusedId) this.restoreFocus(focusedId);
  }

  renderItem(job) {
    const old = this.list.querySelector(`[data-task-id="${CSS.escape(job.task_id)}"]`);
    if (!old) return;
    const hadFocus = old.contains(document.activeElement) ? this.focusKey() : null;
    old.replaceWith(this.item(job));
    if (hadFocus) this.restoreFocus(hadFocus);
  }

  focusKey() {
    const element = document.activeElement;
    const item = element.closest("[data-task-id]");
    return item ? { taskId: item.dataset.taskId, action: element.dataset.jobAction || null } : null;
  }

  restoreFocus({ taskId, action }) {
    const item = this.list.querySelector(`[data-task-id="${CSS.escape(taskId)}"]`);
    if (!item) return;
    const target = (action && item.querySelector(`[data-job-action="${action}"]`)) || item;
    target.focus();
  }

  item(job) {
    const kind = JOB_KINDS.get(job.kind)?.label || job.kind;
    const progress = job.state === "SUCCESS" ? 100 : Math.round(Number(job.progress) || 0);
    const note = this.notes.get(job.task_id);
    return h(
      "li",
      { class: "job-item", tabindex: "-1", "data-task-id": job.task_id, "data-state": job.state },
      h(
        "div",
        { class: "job-head" },
        h("span", { class: "job-kind" }, kind),
        h("span", { class: "badge", "data-state": job.state }, STATE_LABELS[job.state] || job.state),
        h("time", { class: "job-time", datetime: job.created_at }, timestamp(job.created_at)),
      ),
      h(
        "div",
        {
          class: "progress",
          role: "progressbar",
          "aria-label": `${kind} job progress`,
          "aria-valuemin": "0",
          "aria-valuemax": "100",
          "aria-valuenow": String(progress),
          "data-state": job.state,
        },
        h("div", { class: "progress-fill", style: `width: ${progress}%` }),
      ),
      this.statusText(job),
      note ? h("p", { class: `job-text${note.error ? " is-error" : ""}`, "data-job-note": "" }, note.text) : null,
      h("div", { class: "job-actions" }, this.actions(job, kind, note)),
    );
  }

  statusText(job) {
    if (job.state === "FAILURE") {
      return h("p", { class: "job-text is-error", "data-job-error": "" }, `Failed: ${job.error || job.status || "unknown error"}`);
    }
    if (job.state === "REVOKED") return h("p", { class: "job-text" }, "Cancelled.");
    return job.status ? h("p", { class: "job-text" }, job.status) : null;
  }

  actions(job, kind, note) {
    const buttons = [];
    if (ACTIVE_STATES.has(job.state)) {
      buttons.push(
        h("button", {
          type: "button",
          class: "button-secondary",
          "data-job-action": "cancel",
          "aria-label": `Cancel ${kind.toLowerCase()} job`,
          onclick: () => this.cancel(job.task_id),
        }, "Cancel"),
      );
    }
    if (job.state === "SUCCESS" && job.kind === "export" && job.download_url) {
      buttons.push(h("a", { href: job.download_url, download: "", "data-job-action": "download" }, "Download CSV"));
    } else if (job.state === "SUCCESS" && !note?.expired) {
      buttons.push(
        h("button", {
          type: "button",
          class: "button-secondary",
          "data-job-action": "view",
          "aria-label": `Show ${kind.toLowerCase()} result`,
          onclick: () => this.view(job),
        }, "Show result"),
      );
    }
    return buttons;
  }

  async cancel(taskId) {
    try {
      const { body } = await del(jobUrl(taskId));
      this.notes.delete(taskId);
      this.applyUpdate(body);
      this.announce("Job cancelled.");
    } catch (error) {
      this.setNote(taskId, this.errorText(error), true);
    }
  }

  async view(job) {
    this.setNote(job.task_id, "Loading the result…", false);
    try {
      const data = await fetchResult(job.cache_key);
      this.notes.delete(job.task_id);
      this.renderItem(job);
      this.onView(job, data);
    } catch (error) {
      this.setNote(job.task_id, this.errorText(error), true, { expired: error instanceof ResultExpired });
    }
  }

  errorText(error) {
    if (error instanceof ResultExpired) return `Expired: ${error.message}`;
    if (error instanceof JobFailed) return error.state === "REVOKED" ? "The job was cancelled." : `Failed: ${error.message}`;
    if (error instanceof NetworkError) return UNREACHABLE_MESSAGE;
    if (error instanceof ApiError) return error.message;
    return String(error.message || error);
  }

  setNote(taskId, text, isError, { expired = false } = {}) {
    this.notes.set(taskId, { text, error: isError, expired });
    const job = this.jobs.find((candidate) => candidate.task_id === taskId);
    if (job) this.renderItem(job);
    if (isError) this.announce(text);
  }
}

// A result panel's job status: "Submitting…", then a progress bar with the job's own status
// message, then success or a clear error (API message plus each field's errors). The panel
// shows only its current job: the previous answer (rows, charts, a download link) goes as
// soon as a new job starts, so a failed or cancelled job never sits above an older answer.

import { ApiError, NetworkError } from "./api.js";
import { h } from "./format.js";
import { ACTIVE_STATES, JobFailed, ResultExpired } from "./jobs.js";

const STATE_MESSAGES = {
  PENDING: "Queued — waiting for a worker…",
  STARTED: "Started…",
  PROGRESS: "Working…",
  RETRY: "A temporary error occurred; retrying…",
};

export class JobPanel {
  /**
   * `onClear()` runs when the body is emptied (e.g. to destroy charts drawn in it);
   * `onState(state)` hears "running", "done", "failed" or "cancelled" (the tab shows it).
   */
  constructor(section, { noun, fieldLabel = (path) => path, onCancel = () => {}, onClear = () => {}, onState = () => {} }) {
    this.section = section;
    this.noun = noun;
    this.fieldLabel = fieldLabel;
    this.onClear = onClear;
    this.onState = onState;
    this.status = section.querySelector("[data-job-status]");
    this.message = section.querySelector("[data-job-message]");
    this.bar = section.querySelector("[data-job-progress]");
    this.fill = this.bar.querySelector(".progress-fill");
    this.percent = section.querySelector("[data-job-percent]");
    this.error = section.querySelector("[data-job-error]");
    this.cancelButton = section.querySelector("[data-job-cancel]");
    this.body = section.querySelector("[data-panel-body]");
    this.token = 0;
    this.taskId = null;
    this.cancelButton.addEventListener("click", () => {
      if (this.taskId) onCancel(this.taskId, this);
    });
  }

  /** Start a new run; older runs' updates are ignored from now on. Returns the run's token. */
  begin() {
    this.token += 1;
    this.taskId = null;
    delete this.section.dataset.taskId;
    this.clear();
    this.status.hidden = false;
    this.error.hidden = true;
    this.error.replaceChildren();
    // Busy on the result only: the status message beside it must still be announced.
    this.body.setAttribute("aria-busy", "true");
    this.setProgress(0, "SUBMITTING");
    this.message.textContent = `Submitting ${this.noun}…`;
    this.cancelButton.hidden = true;
    this.onState("running");
    return this.token;
  }

  /** Empty the result area (the job status above it stays). */
  clear() {
    this.onClear();
    this.body.replaceChildren();
  }

  isCurrent(token) {
    return token === this.token;
  }

  setTask(token, taskId) {
    if (!this.isCurrent(token)) return;
    this.taskId = taskId;
    this.section.dataset.taskId = taskId;
  }

  setProgress(progress, state) {
    const value = Math.max(0, Math.min(100, Math.round(Number(progress) || 0)));
    this.bar.setAttribute("aria-valuenow", String(value));
    this.bar.setAttribute("aria-valuetext", `${value} percent`);
    this.bar.dataset.state = state;
    this.fill.style.width = `${value}%`;
    this.percent.textContent = `${value} %`;
  }

  update(token, update) {
    if (!this.isCurrent(token)) return;
    this.setProgress(update.progress, update.state);
    if (update.state === "SUBMITTING") return;
    const text = update.status || STATE_MESSAGES[update.state] || "Working…";
    this.message.textContent = update.state === "PENDING" ? `${this.capitalNoun} queued: ${text}` : text;
    this.cancelButton.hidden = !(this.taskId && ACTIVE_STATES.has(update.state));
  }

  get capitalNoun() {
    return this.noun.charAt(0).toUpperCase() + this.noun.slice(1);
  }

  succeed(token, message) {
    if (!this.isCurrent(token)) return;
    this.setProgress(100, "SUCCESS");
    this.message.textContent = message;
    this.cancelButton.hidden = true;
    this.body.removeAttribute("aria-busy");
    this.onState("done");
  }

  fail(token, error) {
    if (!this.isCurrent(token)) return;
    this.cancelButton.hidden = true;
    this.body.removeAttribute("aria-busy");
    this.clear();
    const state = error instanceof JobFailed ? error.state : "FAILURE";
    this.onState(state === "REVOKED" ? "cancelled" : "failed");
    this.bar.dataset.state = state;
    this.message.textContent = state === "REVOKED" ? `${this.capitalNoun} cancelled.` : `${this.capitalNoun} failed.`;
    this.error.replaceChildren(...this.describe(error));
    this.error.hidden = false;
  }

  describe(error) {
    if (error instanceof NetworkError) return [h("p", {}, error.message)];
    if (error instanceof ResultExpired) return [h("p", {}, `Result expired: ${error.message}`)];
    if (error instanceof JobFailed) {
      return [h("p", {}, error.state === "REVOKED" ? "The job was cancelled." : `The job failed: ${error.message}`)];
    }
    if (error instanceof ApiError) {
      const items = Object.entries(error.errors || {}).flatMap(([path, messages]) =>
        (Array.isArray(messages) ? messages : [messages]).map((m) => h("li", {}, `${this.fieldLabel(path)}: ${m}`)),
      );
      return [h("p", {}, error.message), items.length ? h("ul", {}, items) : null];
    }
    return [h("p", {}, `Something went wrong: ${error.message || error}`)];
  }
}

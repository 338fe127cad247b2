// "Saved searches": the current filters saved under a name with a schedule, each listed with
// its last and next run and how many contracts its latest run found new ("3 new"). Open shows
// the latest run's result; the badge shows the new contracts; the schedule can be edited,
// the search run now or deleted. A run that finds something new arrives on the websocket.

import { ApiError, LatestAnswer, NetworkError, UNREACHABLE_MESSAGE, del, get, post, request } from "./api.js";
import { count, h, timestamp } from "./format.js";
import { JOB_KINDS, ResultExpired, fetchResult } from "./jobs.js";

const LIST_URL = "/api/v1/saved-searches/";
const REFRESH_DELAY_MS = 400;
// After "Run now": the run is recorded by a worker a moment later; look for it this often.
const RUN_POLL_MS = 1000;
const RUN_POLL_TIMES = 15;

// The schedule choices of the form → the API's fields.
const SCHEDULES = {
  none: { label: "No schedule", fields: { every_seconds: null, crontab: "" } },
  hourly: { label: "Every hour", fields: { every_seconds: 3600, crontab: "" } },
  daily: { label: "Every day", fields: { every_seconds: 86400, crontab: "" } },
  weekly: { label: "Every week", fields: { every_seconds: 604800, crontab: "" } },
  crontab: { label: "Crontab…", fields: null },
};

function scheduleChoice(search) {
  if (search.crontab) return "crontab";
  const match = Object.entries(SCHEDULES).find(([, s]) => s.fields && s.fields.every_seconds === search.every_seconds);
  return match ? match[0] : "none";
}

function describeSchedule(search) {
  const parts = [];
  if (search.crontab) parts.push(`crontab "${search.crontab}"`);
  else if (search.every_seconds) {
    const choice = scheduleChoice(search);
    parts.push(choice === "none" ? `every ${count(search.every_seconds)} s` : SCHEDULES[choice].label.toLowerCase());
  }
  if (search.run_after_import) parts.push("after each import");
  return parts.length ? `Runs ${parts.join(" and ")}.` : "Runs only when asked.";
}

/** Schedule controls (select, crontab box, after-import box), shared by the save and edit forms. */
function scheduleFields(idPrefix, search = null) {
  const select = h(
    "select",
    { id: `${idPrefix}-schedule` },
    Object.entries(SCHEDULES).map(([value, s]) => h("option", { value }, s.label)),
  );
  select.value = search ? scheduleChoice(search) : "daily";
  const crontab = h("input", {
    id: `${idPrefix}-crontab`,
    type: "text",
    placeholder: "0 7 * * 1-5",
    "aria-describedby": `${idPrefix}-crontab-hint`,
    value: search?.crontab || "",
  });
  const crontabField = h(
    "div",
    { class: "field" },
    h("label", { for: `${idPrefix}-crontab` }, "Crontab"),
    crontab,
    h("p", { class: "hint", id: `${idPrefix}-crontab-hint` }, "minute hour day month weekday"),
  );
  const afterImport = h("input", { id: `${idPrefix}-after-import`, type: "checkbox" });
  afterImport.checked = search ? search.run_after_import : true;
  const showCrontab = () => {
    crontabField.hidden = select.value !== "crontab";
  };
  select.addEventListener("change", showCrontab);
  showCrontab();
  const element = h(
    "div",
    { class: "saved-schedule" },
    h("div", { class: "field" }, h("label", { for: `${idPrefix}-schedule` }, "Schedule"), select),
    crontabField,
    h("div", { class: "field checkbox" }, afterImport, h("label", { for: `${idPrefix}-after-import` }, "Also after each import")),
  );
  const read = () => ({
    ...(SCHEDULES[select.value].fields || { every_seconds: null, crontab: crontab.value.trim() }),
    run_after_import: afterImport.checked,
  });
  return { element, read };
}

function errorText(error) {
  if (error instanceof NetworkError) return UNREACHABLE_MESSAGE;
  if (error instanceof ApiError) {
    const fields = Object.entries(error.errors || {}).map(([field, messages]) => `${field}: ${[].concat(messages).join(" ")}`);
    return [error.message, ...fields].join(" ");
  }
  return error.message;
}

export class SavedSearchesPanel {
  /**
   * `kinds` are the job kinds the filters form can build a request for, and `requestFor(kind)`
   * builds it; `onOpen(job, data)` shows a job's result; `onShowNew(search, data)` shows a
   * page of new contracts.
   */
  constructor(root, { socket, kinds, requestFor, onOpen, onShowNew, onNews = () => {}, announce = () => {} }) {
    this.root = root;
    this.requestFor = requestFor;
    this.onOpen = onOpen;
    this.onShowNew = onShowNew;
    this.onNews = onNews;
    this.announce = announce;
    this.list = root.querySelector("[data-saved-list]");
    this.message = root.querySelector("[data-saved-message]");
    this.form = root.querySelector("[data-saved-form]");
    this.searches = [];
    this.lists = new LatestAnswer(LIST_URL);
    this.editing = null;
    this.refreshTimer = null;

    this.form.querySelector("[data-saved-kind]").replaceChildren(
      ...kinds.filter((kind) => JOB_KINDS.has(kind)).map((kind) => h("option", { value: kind }, JOB_KINDS.get(kind).label)),
    );
    this.schedule = scheduleFields("saved-new");
    this.form.querySelector("[data-saved-schedule]").replaceChildren(this.schedule.element);
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.save();
    });
    socket.addEventListener("saved-search-news", (event) => this.news(event.detail));
    // A run's job finishing changes its search's state: refresh (debounced) on job updates.
    socket.addEventListener("update", (event) => {
      if (this.searches.some((s) => s.latest_run?.task_id === event.detail.task_id)) this.scheduleRefresh();
    });
  }

  async refresh() {
    window.clearTimeout(this.refreshTimer);
    this.refreshTimer = null;
    try {
      const answer = await this.lists.get();
      if (answer === null) return; // a list asked for later is already shown
      this.searches = answer.body.results;
      this.message.textContent = this.searches.length ? "" : "No saved searches yet.";
      this.render();
    } catch (error) {
      this.message.textContent = errorText(error);
    }
  }

  scheduleRefresh() {
    if (this.refreshTimer === null) this.refreshTimer = window.setTimeout(() => this.refresh(), REFRESH_DELAY_MS);
  }

  news(event) {
    this.announce(`${event.name}: ${count(event.new_count)} new contracts.`);
    this.onNews(event);
    this.refresh();
  }

  async save() {
    const name = this.form.querySelector("[data-saved-name]");
    const kind = this.form.querySelector("[data-saved-kind]").value;
    const status = this.form.querySelector("[data-saved-status]");
    status.classList.remove("is-error");
    try {
      const { body } = await post(LIST_URL, { name: name.value, kind, request: this.requestFor(kind), ...this.schedule.read() });
      status.textContent = `Saved "${body.name}".`;
      this.announce(status.textContent);
      name.value = "";
      await this.refresh();
    } catch (error) {
      status.textContent = errorText(error);
      status.classList.add("is-error");
    }
  }

  render() {
    this.list.replaceChildren(...this.searches.map((search) => this.item(search)));
  }

  item(search) {
    const run = search.latest_run;
    const kind = JOB_KINDS.get(search.kind)?.label || search.kind;
    const newCount = run?.new_count || 0;
    const note = h("p", { class: "job-text", "data-saved-note": "" });
    const lines = [
      h("p", { class: "job-text" }, describeSchedule(search)),
      h(
        "p",
        { class: "job-text" },
        "Last run: ",
        search.last_run ? h("time", { datetime: search.last_run }, timestamp(search.last_run)) : "never",
        run?.job_state ? ` (${run.job_state.toLowerCase()}, ${count(run.matched_count)} contracts)` : "",
      ),
      search.next_scheduled_run
        ? h("p", { class: "job-text" }, "Next run: ", h("time", { datetime: search.next_scheduled_run }, timestamp(search.next_scheduled_run)))
        : null,
    ];
    const actions = h(
      "div",
      { class: "job-actions" },
      h("button", { type: "button", class: "button-secondary", "aria-label": `Open ${search.name}`, onclick: () => this.open(search, note) }, "Open"),
      h("button", { type: "button", class: "button-secondary", "aria-label": `Run ${search.name} now`, onclick: () => this.runNow(search, note) }, "Run now"),
      h(
        "button",
        { type: "button", class: "button-secondary", "aria-expanded": String(this.editing === search.id), "aria-label": `Edit schedule of ${search.name}`, onclick: () => this.toggleEdit(search) },
        "Edit schedule",
      ),
      h("button", { type: "button", class: "button-secondary", "aria-label": `Delete ${search.name}`, onclick: (event) => this.remove(search, event.currentTarget, note) }, "Delete"),
    );
    return h(
      "li",
      { class: "job-item saved-item", "data-saved-id": String(search.id) },
      h(
        "div",
        { class: "job-head" },
        h("span", { class: "job-kind" }, search.name),
        h("span", { class: "job-time" }, kind),
        newCount
          ? h("button", { type: "button", class: "badge badge-new", "aria-label": `Show ${newCount} new contracts of ${search.name}`, onclick: () => this.showNew(search, note) }, `${count(newCount)} new`)
          : null,
      ),
      lines,
      this.editing === search.id ? this.editor(search, note) : null,
      note,
      actions,
    );
  }

  editor(search, note) {
    const schedule = scheduleFields(`saved-${search.id}`, search);
    return h(
      "form",
      {
        class: "saved-editor",
        "aria-label": `Schedule of ${search.name}`,
        onsubmit: async (event) => {
          event.preventDefault();
          try {
            await request("PATCH", `${LIST_URL}${search.id}/`, { body: schedule.read() });
            this.editing = null;
            this.announce(`Schedule of ${search.name} saved.`);
            await this.refresh();
          } catch (error) {
            note.textContent = errorText(error);
            note.classList.add("is-error");
          }
        },
      },
      schedule.element,
      h("button", { type: "submit", class: "button-primary" }, "Save schedule"),
    );
  }

  toggleEdit(search) {
    this.editing = this.editing === search.id ? null : search.id;
    this.render();
  }

  async open(search, note) {
    const run = search.latest_run;
    if (!run || run.job_state !== "SUCCESS") {
      note.textContent = run ? "Its latest run has not finished yet." : "It has not run yet: press Run now.";
      return;
    }
    try {
      this.onOpen({ task_id: run.task_id, kind: search.kind }, await fetchResult(run.cache_key));
    } catch (error) {
      note.textContent = error instanceof ResultExpired ? "Its latest result expired: press Run now." : errorText(error);
    }
  }

  async showNew(search, note) {
    try {
      const { body } = await get(`${search.latest_run.new_contracts_url}?page_size=100`);
      this.onShowNew(search, body);
    } catch (error) {
      note.textContent = errorText(error);
    }
  }

  async runNow(search, note) {
    const before = search.latest_run?.id ?? null;
    try {
      await post(`${LIST_URL}${search.id}/run/`);
    } catch (error) {
      note.textContent = errorText(error);
      return;
    }
    note.textContent = "Running; its job shows under My jobs.";
    this.announce(`Running ${search.name}.`);
    // The run may be answered from the cache (no job update follows): look until it is listed.
    for (let attempt = 0; attempt < RUN_POLL_TIMES; attempt += 1) {
      await new Promise((resolve) => window.setTimeout(resolve, RUN_POLL_MS));
      await this.refresh();
      const now = this.searches.find((s) => s.id === search.id);
      if (!now || (now.latest_run && now.latest_run.id !== before)) return;
    }
  }

  async remove(search, button, note) {
    // Two presses: the first asks, the second deletes (no modal dialog to trap focus).
    if (button.dataset.confirm !== "yes") {
      button.dataset.confirm = "yes";
      button.textContent = "Press again to delete";
      return;
    }
    try {
      await del(`${LIST_URL}${search.id}/`);
      this.announce(`Deleted ${search.name}.`);
      await this.refresh();
    } catch (error) {
      note.textContent = errorText(error);
    }
  }
}

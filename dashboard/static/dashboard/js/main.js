// The dashboard page: filters → async jobs → results, charts, entity table, export, red flags,
// drill-down, My jobs, saved searches.
//
// The answers live in tabs (tabs.js), one on screen at a time; pressing an action selects its
// tab and moves focus to the tab's heading, so its progress and answer are where the user is.
// Adding a panel:
//   1. index.html: a `<section class="panel tab-panel" id="x-panel" data-tab="x"
//      data-tab-label="X" aria-labelledby="x-heading" hidden>` with an `<h2 id="x-heading">`
//      inside `[data-tabs]`; it becomes a tab by itself. For a job-backed panel, include
//      "dashboard/_job_status.html" and a `<div class="panel-body" data-panel-body>`.
//   2. a module that renders into it (x.js); here, `panelFor("x", …)` and an action that calls
//      `runInPanel(…, { reveal: true })`, or `tabs.select("x", { focus: "heading" })`.

import { ApiError, NetworkError, UNREACHABLE_MESSAGE, del } from "./api.js";
import { destroyCharts, renderAnalytics } from "./charts.js";
import { ChipInput, TimeRangeInput } from "./chips.js";
import { renderEntities } from "./entities.js";
import { renderExport } from "./export.js";
import { count } from "./format.js";
import { jobUrl, rememberedRequest, runJob } from "./jobs.js";
import { MyJobsPanel } from "./myjobs.js";
import { JobPanel } from "./panel.js";
import { fetchTimeRanges, setUpRedFlags } from "./redflags_view.js";
import { SavedSearchesPanel } from "./saved.js";
import { renderSearch } from "./search.js";
import { JobSocket } from "./socket.js";
import { Tabs } from "./tabs.js";

const form = document.getElementById("filters-form");
const announcer = document.querySelector("[data-announcer]");
const banner = document.querySelector("[data-connection-banner]");
const tabs = new Tabs(document.querySelector("[data-tabs]"));

function announce(text) {
  // Clear first so that the same message twice is announced twice.
  announcer.textContent = "";
  window.setTimeout(() => {
    announcer.textContent = text;
  }, 50);
}

// --- Connection banner ---------------------------------------------------------------------

window.addEventListener("api:unreachable", () => {
  banner.textContent = `${UNREACHABLE_MESSAGE} Jobs already submitted keep running on the server.`;
  banner.hidden = false;
});
window.addEventListener("api:reachable", () => {
  banner.hidden = true;
});
window.addEventListener("api:unauthenticated", () => {
  banner.replaceChildren(
    "Your session has ended. ",
    Object.assign(document.createElement("a"), { href: `/accounts/login/?next=/`, textContent: "Log in again" }),
    ".",
  );
  banner.hidden = false;
});

// --- Filters -------------------------------------------------------------------------------

const chips = Object.fromEntries(
  [...form.querySelectorAll("[data-chip-field]")].map((root) => [root.dataset.chipField, new ChipInput(root, { announce })]),
);
const timeRanges = new TimeRangeInput(form.querySelector("[data-time-ranges]"), { announce });
fetchTimeRanges().then((available) => available && timeRanges.offer(available));
const minAmount = document.getElementById("min-amount");
const maxAmount = document.getElementById("max-amount");
const pageSize = document.getElementById("page-size");
const entityType = document.getElementById("entity-type");

function readFilters() {
  const filters = {};
  for (const [field, input] of Object.entries(chips)) filters[field] = [...input.values];
  filters.time_ranges = timeRanges.values;
  const min = minAmount.value.trim();
  const max = maxAmount.value.trim();
  if (min || max) filters.value_range = { min: min || null, max: max || null };
  return filters;
}

// API error paths ("filters.value_range.min") → the control they are about.
const FIELD_CONTROLS = [
  ["filters.value_range.min", "min-amount", "Minimum amount"],
  ["filters.value_range.max", "max-amount", "Maximum amount"],
  ["filters.value_range", "min-amount", "Amount"],
  ["filters.time_ranges", "time-range-year", "Time ranges"],
  ["filters.page_size", "page-size", "Rows per page"],
  ["page_size", "page-size", "Rows per page"],
  ["entity_type", "entity-type", "Entity table of"],
  ...Object.keys(chips).map((field) => [`filters.${field}`, `${field}-input`, labelOf(field)]),
];

function labelOf(field) {
  return document.querySelector(`label[for="${field}-input"]`)?.textContent.trim() || field;
}

function controlFor(path) {
  return FIELD_CONTROLS.find(([prefix]) => path === prefix || path.startsWith(`${prefix}.`));
}

function fieldLabel(path) {
  return controlFor(path)?.[2] || path;
}

function clearFieldErrors() {
  for (const element of form.querySelectorAll("[aria-invalid]")) element.removeAttribute("aria-invalid");
  for (const element of form.querySelectorAll(".field-error")) element.textContent = "";
}

function showFieldErrors(error) {
  if (!(error instanceof ApiError)) return;
  for (const [path, messages] of Object.entries(error.errors || {})) {
    const match = controlFor(path);
    if (!match) continue;
    const control = document.getElementById(match[1]);
    control.setAttribute("aria-invalid", "true");
    const slot = document.getElementById(`${match[1].replace(/-input$/, "")}-error`) || document.getElementById("time-ranges-error");
    if (slot) slot.textContent = [].concat(messages).join(" ");
  }
}

form.querySelector("[data-clear-filters]").addEventListener("click", () => {
  Object.values(chips).forEach((input) => input.clear());
  timeRanges.clear();
  minAmount.value = "";
  maxAmount.value = "";
  clearFieldErrors();
  announce("Filters cleared.");
});

// --- Jobs ----------------------------------------------------------------------------------

const socket = new JobSocket();
socket.connect();

async function cancelJob(taskId, panel) {
  try {
    await del(jobUrl(taskId));
    announce("Cancelling the job…");
  } catch (error) {
    panel.error.replaceChildren(...panel.describe(error));
    panel.error.hidden = false;
  }
}

/** The JobPanel of the tab `name` (the section with data-tab="name"). */
function panelFor(name, noun, { onClear } = {}) {
  return new JobPanel(document.querySelector(`[data-tab="${name}"]`), {
    noun,
    fieldLabel,
    onCancel: cancelJob,
    onClear,
    onState: (state) => tabs.setState(name, state),
  });
}

const panels = {
  search: panelFor("search", "search"),
  analytics: panelFor("analytics", "analytics", { onClear: destroyCharts }),
  entities: panelFor("entities", "entity table"),
  export: panelFor("export", "export"),
};

const myJobs = new MyJobsPanel(document.getElementById("jobs-panel"), { socket, announce, onView: showJobResult });

/** Bring a panel's tab forward and put focus on its heading, where its progress shows. */
function revealPanel(panel) {
  tabs.select(panel.section.dataset.tab, { focus: "heading" });
}

/**
 * Paging or sorting redraws the panel and with it the button that had focus: put focus back
 * on the same control once the panel is drawn again (on its heading when that control is gone
 * or disabled), unless the user has moved it elsewhere meanwhile.
 */
function focusKeeper(panel) {
  const active = document.activeElement;
  if (!panel.section.contains(active)) return () => {};
  const { page, sort } = active.dataset;
  const selector = page ? `[data-page="${page}"]` : sort ? `[data-sort="${sort}"]` : null;
  return () => {
    if (document.activeElement && document.activeElement !== document.body) return;
    const again = selector && panel.section.querySelector(selector);
    if (again && !again.disabled) again.focus({ preventScroll: true });
    else tabs.focusHeading(panel.section.dataset.tab);
  };
}

/**
 * Run one job in a panel; `render(data)` shows its result. `reveal` (an action button) brings
 * the panel's tab forward with focus on its heading. Returns the data, or null on error.
 */
async function runInPanel(panel, kind, body, { done, render, reveal = false }) {
  clearFieldErrors();
  const restoreFocus = reveal ? () => {} : focusKeeper(panel);
  const token = panel.begin();
  if (reveal) revealPanel(panel);
  try {
    const { data, cached } = await runJob(socket, kind, body, {
      onUpdate: (update) => panel.update(token, update),
      onSubmitted: (answer) => {
        panel.setTask(token, answer.task_id);
        myJobs.noteSubmitted(answer, kind);
      },
    });
    if (!panel.isCurrent(token)) return null;
    panel.succeed(token, `${done(data)}${cached ? " (from cache)" : ""}`);
    render(data);
    restoreFocus();
    return data;
  } catch (error) {
    if (!panel.isCurrent(token)) return null;
    panel.fail(token, error);
    showFieldErrors(error);
    restoreFocus();
    if (!(error instanceof NetworkError)) myJobs.scheduleRefresh();
    return null;
  }
}

const redFlags = setUpRedFlags({
  run: runInPanel,
  readFilters,
  pageSize: () => Number(pageSize.value),
  fieldLabel,
  onCancel: cancelJob,
  reveal: (name) => tabs.select(name, { focus: "heading" }),
  setState: (name, state) => tabs.setState(name, state),
});

// The entity panel keeps the request it shows, so a new run keeps its sort order.
let entityRequest = null;

function runSearch(request, { reveal = false } = {}) {
  return runInPanel(panels.search, "search", request, {
    reveal,
    done: (data) => `Search complete: ${count(data.pagination.total_count)} contracts.`,
    render: (data) => showSearch(data, request),
  });
}

function showSearch(data, request) {
  renderSearch(panels.search.body, data, {
    onPage: request
      ? (page) => runSearch({ ...request, filters: { ...request.filters, page } })
      : null,
  });
}

function runAnalytics(request, { reveal = false } = {}) {
  return runInPanel(panels.analytics, "analytics", request, {
    reveal,
    done: (data) => `Analytics complete: ${count(data.summary.count)} contracts.`,
    render: (data) => renderAnalytics(panels.analytics.body, data, { onEntity: redFlags.openEntity }),
  });
}

function runEntities(request, { reveal = false } = {}) {
  entityRequest = request;
  return runInPanel(panels.entities, "entity_table", request, {
    reveal,
    done: (data) => `Entity table complete: ${count(data.pagination.total_count)} rows.`,
    render: (data) => showEntities(data, request),
  });
}

function showEntities(data, request) {
  renderEntities(panels.entities.body, data, {
    ordering: request?.ordering || "-total_amount",
    onSort: request ? (ordering) => runEntities({ ...request, ordering, page: 1 }) : null,
    onPage: request ? (page) => runEntities({ ...request, page }) : null,
    onEntity: redFlags.openEntity,
  });
}

function runExport(request, { reveal = false } = {}) {
  return runInPanel(panels.export, "export", request, {
    reveal,
    done: (data) => `Export complete: ${count(data.row_count)} contracts.`,
    render: (data) => renderExport(panels.export.body, data),
  });
}

// The request each kind of job gets from the form: what the buttons submit and what is saved.
const REQUESTS = {
  search: () => ({ filters: { ...readFilters(), page: 1, page_size: Number(pageSize.value) } }),
  analytics: () => ({ filters: readFilters() }),
  entity_table: () => ({
    filters: readFilters(),
    entity_type: entityType.value,
    page: 1,
    page_size: Number(pageSize.value),
    ordering: entityRequest?.entity_type === entityType.value ? entityRequest.ordering : "-total_amount",
  }),
  export: () => ({ filters: readFilters() }),
};

// The form's buttons: each brings its own tab forward.
const ACTIONS = {
  search: () => runSearch(REQUESTS.search(), { reveal: true }),
  analytics: () => runAnalytics(REQUESTS.analytics(), { reveal: true }),
  entities: () => runEntities(REQUESTS.entity_table(), { reveal: true }),
  export: () => runExport(REQUESTS.export(), { reveal: true }),
  redflags: () => redFlags.runAll(),
};

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const action = event.submitter?.dataset.action || "search";
  ACTIONS[action]();
});

/** "Show result" in My jobs: the job's data in its panel, pageable if this browser sent it. */
function showJobResult(job, data) {
  const remembered = rememberedRequest(job.task_id);
  const request = remembered ? remembered.body : null;
  if (redFlags.showResult(job, data, request)) {
    announce(`Showing the result of an earlier ${job.kind.replaceAll("_", " ")} job.`);
    return;
  }
  const panel = { search: panels.search, analytics: panels.analytics, entity_table: panels.entities, export: panels.export }[
    job.kind
  ];
  const token = panel.begin();
  panel.setTask(token, job.task_id);
  panel.succeed(token, "Result of an earlier job.");
  if (job.kind === "search") {
    showSearch(data, request);
  } else if (job.kind === "analytics") {
    renderAnalytics(panel.body, data, { onEntity: redFlags.openEntity });
  } else if (job.kind === "entity_table") {
    entityRequest = request;
    showEntities(data, request);
  } else {
    renderExport(panel.body, data);
  }
  revealPanel(panel);
  announce(`Showing the result of an earlier ${job.kind.replace("_", " ")} job.`);
}

/** The contracts a saved search's latest run found new, in the search panel. */
function showNewContracts(search, data) {
  const token = panels.search.begin();
  panels.search.succeed(token, `${count(data.pagination.total_count)} new in "${search.name}" since its previous run.`);
  showSearch(data, null);
  revealPanel(panels.search);
  announce(`Showing the new contracts of ${search.name}.`);
}

const saved = new SavedSearchesPanel(document.getElementById("saved-panel"), {
  socket,
  announce,
  kinds: Object.keys(REQUESTS),
  requestFor: (kind) => REQUESTS[kind](),
  onOpen: showJobResult,
  onShowNew: showNewContracts,
  // Marks the tab when the news arrives while another one is shown; looking at it clears it.
  onNews: () => {
    if (tabs.selected !== "saved") tabs.setState("saved", "new");
  },
});

for (const button of form.querySelectorAll("[data-action]")) button.disabled = false;
myJobs.refresh();
saved.refresh();

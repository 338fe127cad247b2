// Wiring of the "Red flags" view and the drill-down: four analyses, each its own job in its
// own part of the panel, and the drill-down that any entity on the page can open.

import { get } from "./api.js";
import { DrillDown } from "./drilldown.js";
import { count } from "./format.js";
import { JobPanel } from "./panel.js";
import { renderBenford, renderDistribution, renderRounding } from "./redflags.js";
import { renderTreemap } from "./treemap.js";

const TIME_RANGES_URL = "/api/v1/contracts/time-ranges/";
const TREEMAP = { categories: 12, contractors: 8 };

const PARTS = {
  value_distribution: {
    noun: "value distribution",
    done: (data) => `Value distribution: ${count(data.count)} contracts in ${count(data.bin_count)} bins.`,
  },
  benford: {
    noun: "Benford analysis",
    done: (data) =>
      data.enough_data ? `Benford's law: ${data.first_digit.conformity_text}` : "Benford's law: too few contracts to judge.",
  },
  rounding: { noun: "rounding analysis", done: (data) => `Round amounts: ${count(data.count)} contracts.` },
  value_treemap: { noun: "treemap", done: (data) => `Treemap: ${count(data.categories.length)} categories.` },
};
const DRILLDOWN_KINDS = new Set(["related_entities", "related_contracts"]);

/** The years and quarters with data, for the time pickers; null when unavailable. */
export async function fetchTimeRanges() {
  try {
    return (await get(TIME_RANGES_URL)).body;
  } catch {
    return null; // the pickers then accept any year, as before
  }
}

// The red-flags tab shows the most telling state of its four parts.
const STATE_RANK = ["running", "failed", "cancelled", "done"];

/**
 * `run(panel, kind, body, {done, render})` runs one job in a JobPanel (main.js's runInPanel);
 * `readFilters()` the current chips; `pageSize()` the rows per page; `reveal(tab)` selects the
 * tab ("redflags" or "drilldown") with focus on its heading; `setState(tab, state)` marks it.
 */
export function setUpRedFlags({ run, readFilters, pageSize, fieldLabel, onCancel, reveal, setState }) {
  const scale = document.getElementById("distribution-scale");
  const bins = document.getElementById("distribution-bins");
  const partStates = {};
  const onPartState = (kind) => (state) => {
    partStates[kind] = state;
    const states = Object.values(partStates);
    setState("redflags", STATE_RANK.find((rank) => states.includes(rank)) || null);
  };
  const panels = Object.fromEntries(
    Object.entries(PARTS).map(([kind, part]) => [
      kind,
      new JobPanel(document.getElementById(`${kind}-part`), {
        noun: part.noun,
        fieldLabel,
        onCancel,
        onState: onPartState(kind),
      }),
    ]),
  );
  const drillPanel = new JobPanel(document.getElementById("drilldown-panel"), {
    noun: "drill-down",
    fieldLabel,
    onCancel,
    onState: (state) => setState("drilldown", state),
  });
  const drilldown = new DrillDown(drillPanel, { run, readFilters, pageSize, reveal: () => reveal("drilldown") });
  const openEntity = (dimension, name) => drilldown.open(dimension, name);

  const render = {
    value_distribution: (data) => renderDistribution(panels.value_distribution.body, data),
    benford: (data) => renderBenford(panels.benford.body, data),
    rounding: (data) => renderRounding(panels.rounding.body, data),
    value_treemap: (data) => renderTreemap(panels.value_treemap.body, data, { onEntity: openEntity }),
  };

  function request(kind, filters) {
    if (kind === "value_distribution") {
      return { filters, scale: scale.value, bins: Math.min(1000, Math.max(1, Number(bins.value) || 60)) };
    }
    return kind === "value_treemap" ? { filters, ...TREEMAP } : { filters };
  }

  let lastFilters = null;
  function runPart(kind, filters) {
    return run(panels[kind], kind, request(kind, filters), { done: PARTS[kind].done, render: render[kind] });
  }

  function runAll() {
    reveal("redflags");
    lastFilters = readFilters();
    return Promise.all(Object.keys(PARTS).map((kind) => runPart(kind, lastFilters)));
  }

  // A new scale or bin count redraws the histogram alone, for the filters it was run with.
  for (const control of [scale, bins]) {
    control.addEventListener("change", () => {
      if (lastFilters) runPart("value_distribution", lastFilters);
    });
  }

  /** "Show result" from My jobs for these kinds; false for any other kind. */
  function showResult(job, data, request) {
    if (job.kind in PARTS) {
      const panel = panels[job.kind];
      const token = panel.begin();
      panel.setTask(token, job.task_id);
      panel.succeed(token, "Result of an earlier job.");
      render[job.kind](data);
      reveal("redflags");
      return true;
    }
    if (DRILLDOWN_KINDS.has(job.kind) && request) {
      drilldown.show(job, data, request);
      reveal("drilldown");
      return true;
    }
    return false;
  }

  return { runAll, openEntity, showResult };
}

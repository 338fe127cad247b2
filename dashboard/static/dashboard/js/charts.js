// The analytics result: totals beside charts of spend by year and by month and the top
// contractors / organizations / areas / categories. Charts are drawn with Chart.js (vendored
// UMD build, window.Chart); each also has its data as a table, for screen readers and for
// anyone who prefers numbers.

import { count, date, h, money, moneyCompact } from "./format.js";

const COLORS = { bar: "#0b5cad", line: "#b3261e", fill: "rgba(179, 38, 30, 0.12)", top: "#1b7a3a" };
// Long names wrap onto at most three lines sized to the chart (Chart.js gives a y axis at
// most half the chart's width); the full name is in the tooltip and the data table.
const LABEL_CHAR_PX = 7.5;
const LABEL_MAX_LINES = 3;

const CHARTS = [
  { key: "by_year", title: "Spend by year", type: "bar", label: (row) => String(row.year), color: COLORS.bar },
  { key: "by_month", title: "Spend by month", type: "line", label: (row) => row.month, color: COLORS.line },
  { key: "top_contractors", title: "Top contractors", type: "top", dimension: "contractor" },
  { key: "top_organizations", title: "Top organizations", type: "top", dimension: "organization" },
  { key: "top_areas", title: "Top areas", type: "top", dimension: "area" },
  { key: "top_business_categories", title: "Top business categories", type: "top", dimension: "business_category" },
];

const live = [];

/** Destroy the charts drawn so far (before their canvases leave the page). */
export function destroyCharts() {
  while (live.length) live.pop().destroy();
}

function reducedMotion() {
  return window.matchMedia("(prefers-reduced-motion: reduce)").matches;
}

function wrapLabel(text, lineLength) {
  const lines = [];
  for (const word of text.split(/\s+/)) {
    const last = lines[lines.length - 1];
    if (last !== undefined && `${last} ${word}`.length <= lineLength) lines[lines.length - 1] = `${last} ${word}`;
    else lines.push(word);
  }
  if (lines.length > LABEL_MAX_LINES) {
    lines.splice(LABEL_MAX_LINES - 1, lines.length, lines.slice(LABEL_MAX_LINES - 1).join(" "));
  }
  return lines.map((line) => (line.length > lineLength ? `${line.slice(0, lineLength - 1)}…` : line));
}

function totalsList(summary) {
  const span =
    summary.first_award_date && summary.last_award_date
      ? `${date(summary.first_award_date)} – ${date(summary.last_award_date)}`
      : "—";
  const items = [
    ["Contracts", count(summary.count), "count"],
    ["Total amount", money(summary.total_amount), "total"],
    ["Average amount", money(summary.average_amount), "average"],
    ["Date span", span, "span"],
  ];
  return h(
    "dl",
    { class: "totals", "aria-label": "Totals" },
    items.map(([term, value, key]) => h("div", { "data-total": key }, h("dt", {}, term), h("dd", {}, value))),
  );
}

/** A top list's name: a drill-down button when `onEntity` is given, else plain text. */
function entityName(spec, row, onEntity) {
  if (!onEntity || !row.name) return row.name;
  return h(
    "button",
    { type: "button", class: "link-button", "data-entity": spec.dimension, onclick: () => onEntity(spec.dimension, row.name) },
    row.name,
  );
}

function dataTable(spec, rows, onEntity) {
  const nameHeader = spec.type === "top" ? "Name" : spec.key === "by_year" ? "Year" : "Month";
  return h(
    "details",
    {},
    h("summary", {}, `${spec.title}: data table`),
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        {},
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", { scope: "col" }, nameHeader),
            h("th", { scope: "col", class: "num" }, "Contracts"),
            h("th", { scope: "col", class: "num" }, "Total amount"),
          ),
        ),
        h(
          "tbody",
          {},
          rows.map((row) =>
            h(
              "tr",
              {},
              h("th", { scope: "row" }, spec.type === "top" ? entityName(spec, row, onEntity) : spec.label(row)),
              h("td", { class: "num" }, count(row.count)),
              h("td", { class: "num" }, money(row.total_amount)),
            ),
          ),
        ),
      ),
    ),
  );
}

function chartSummary(spec, rows) {
  if (!rows.length) return `${spec.title}: no data.`;
  const label = spec.type === "top" ? (row) => row.name : spec.label;
  const top = [...rows].sort((a, b) => Number(b.total_amount) - Number(a.total_amount))[0];
  return `${spec.title} chart, ${rows.length} ${rows.length === 1 ? "entry" : "entries"}; highest: ${label(top)}, ${money(top.total_amount)}.`;
}

function chartConfig(spec, rows, width, onEntity) {
  const top = spec.type === "top";
  const lineLength = Math.max(10, Math.floor((width * 0.45) / LABEL_CHAR_PX));
  const labels = rows.map((row) => (top ? wrapLabel(row.name || "—", lineLength) : spec.label(row)));
  const fullLabels = rows.map((row) => (top ? row.name : spec.label(row)));
  return {
    type: top ? "bar" : spec.type,
    data: {
      labels,
      datasets: [
        {
          label: "Total amount (PHP)",
          data: rows.map((row) => Number(row.total_amount)),
          backgroundColor: spec.type === "line" ? COLORS.fill : top ? COLORS.top : spec.color,
          borderColor: spec.type === "line" ? COLORS.line : undefined,
          fill: spec.type === "line",
          tension: 0.2,
          pointRadius: rows.length > 40 ? 0 : 3,
          maxBarThickness: 36,
        },
      ],
    },
    options: {
      indexAxis: top ? "y" : "x",
      // A click on a top list's bar opens that entity's drill-down.
      onClick:
        top && onEntity
          ? (event, elements) => elements.length && onEntity(spec.dimension, rows[elements[0].index].name)
          : undefined,
      onHover: top && onEntity ? (event, elements) => (event.native.target.style.cursor = elements.length ? "pointer" : "") : undefined,
      responsive: true,
      maintainAspectRatio: false,
      animation: reducedMotion() ? false : { duration: 300 },
      plugins: {
        legend: { display: false },
        tooltip: {
          callbacks: {
            title: (items) => fullLabels[items[0].dataIndex],
            label: (item) => `${money(item.raw)} · ${count(rows[item.dataIndex].count)} contracts`,
          },
        },
      },
      scales: {
        [top ? "x" : "y"]: { beginAtZero: true, ticks: { callback: (value) => moneyCompact(value) } },
        [top ? "y" : "x"]: { ticks: { autoSkip: !top } },
      },
    },
  };
}

export function renderAnalytics(container, data, { onEntity = null } = {}) {
  destroyCharts();
  const Chart = window.Chart;
  const cards = CHARTS.map((spec) => {
    const rows = data[spec.key] || [];
    const card = h("figure", { class: "chart-card", "data-chart": spec.key });
    const caption = h("figcaption", {}, h("h3", {}, spec.title));
    card.append(caption);
    if (!rows.length) {
      card.append(h("p", { class: "note" }, "No data for these filters."));
      return { card, spec, rows, canvas: null };
    }
    let canvas = null;
    if (Chart) {
      const height = spec.type === "top" ? Math.max(10, rows.length * 2.6 + 3) : 16;
      canvas = h("canvas", { role: "img", "aria-label": chartSummary(spec, rows) });
      card.append(h("div", { class: "chart-box", style: `height: ${height}rem` }, canvas));
    } else {
      card.append(h("p", { class: "note" }, "The chart library did not load; the data is below."));
    }
    card.append(dataTable(spec, rows, onEntity));
    return { card, spec, rows, canvas };
  });
  container.replaceChildren(totalsList(data.summary), h("div", { class: "charts" }, cards.map((c) => c.card)));
  // Charts measure their boxes, so they are created only once the boxes are in the page.
  for (const { spec, rows, canvas } of cards) {
    if (canvas) live.push(new Chart(canvas, chartConfig(spec, rows, canvas.parentElement.clientWidth, onEntity)));
  }
}

// The "Red flags" view: the value distribution with thresholds marked, Benford's law and
// rounding, each a chart with a caption saying plainly what it shows and what it does NOT
// prove, and its numbers as a table.

import { count, h, money, moneyCompact } from "./format.js";

const COLORS = { observed: "#0b5cad", expected: "#b3261e", threshold: "#b3261e", rounding: "#1b7a3a" };
const charts = new Map();

function reducedMotion() {
  return window.matchMedia("(prefers-reduced-motion: reduce)").matches;
}

function percent(share) {
  return share === null || share === undefined ? "—" : `${(share * 100).toFixed(1)} %`;
}

/** An axis tick for a share: as many decimals as small shares need ("0.25 %", "40 %"). */
function percentTick(value) {
  return `${Number((value * 100).toPrecision(2))} %`;
}

function draw(key, canvas, config) {
  charts.get(key)?.destroy();
  if (window.Chart && canvas) charts.set(key, new window.Chart(canvas, config));
}

function card(key, title, caption, ...body) {
  return h(
    "figure",
    { class: "chart-card redflag-card", "data-redflag": key },
    h("figcaption", {}, h("h3", {}, title), caption.map((text) => h("p", { class: "caption" }, text))),
    ...body,
  );
}

function canvasBox(label, heightRem = 16) {
  const canvas = h("canvas", { role: "img", "aria-label": label });
  return [canvas, h("div", { class: "chart-box", style: `height: ${heightRem}rem` }, canvas)];
}

function table(summary, headers, rows) {
  return h(
    "details",
    {},
    h("summary", {}, summary),
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        {},
        h("thead", {}, h("tr", {}, headers.map((text, i) => h("th", { scope: "col", class: i ? "num" : null }, text)))),
        h(
          "tbody",
          {},
          rows.map((cells) => h("tr", {}, cells.map((text, i) => h(i ? "td" : "th", { scope: i ? null : "row", class: i ? "num" : null }, text)))),
        ),
      ),
    ),
  );
}

const baseOptions = () => ({
  responsive: true,
  maintainAspectRatio: false,
  animation: reducedMotion() ? false : { duration: 300 },
});

// --- Value distribution ----------------------------------------------------------------------

/** A chart.js plugin drawing a dashed vertical line at each threshold, labelled. */
const thresholdLines = (marks) => ({
  id: "thresholdLines",
  afterDatasetsDraw(chart) {
    const { ctx, chartArea, scales } = chart;
    ctx.save();
    ctx.strokeStyle = COLORS.threshold;
    ctx.fillStyle = COLORS.threshold;
    ctx.setLineDash([5, 4]);
    ctx.font = "11px system-ui, sans-serif";
    for (const mark of marks) {
      const x = scales.x.getPixelForValue(mark.position);
      if (!(x >= chartArea.left && x <= chartArea.right)) continue;
      ctx.beginPath();
      ctx.moveTo(x, chartArea.top);
      ctx.lineTo(x, chartArea.bottom);
      ctx.stroke();
      ctx.fillText(moneyCompact(mark.amount), x + 3, chartArea.top + 10);
    }
    ctx.restore();
  },
});

/** Where `amount` falls on the category axis of bins: its bin index plus the fraction inside it. */
function binPosition(bins, amount) {
  const value = Number(amount);
  for (const [index, bin] of bins.entries()) {
    const lower = Number(bin.lower);
    const upper = Number(bin.upper);
    if (value >= lower && (value < upper || index === bins.length - 1) && value <= upper) {
      const fraction = upper > lower ? (value - lower) / (upper - lower) : 0;
      return index - 0.5 + fraction;
    }
  }
  return null;
}

export function renderDistribution(container, data) {
  const marks = data.thresholds
    .map((mark) => ({ amount: mark.amount, position: binPosition(data.bins, mark.amount) }))
    .filter((mark) => mark.position !== null);
  const [canvas, box] = canvasBox(
    `Histogram of ${count(data.count)} contract amounts in ${data.bin_count} ${data.scale} bins, thresholds marked.`,
    18,
  );
  container.replaceChildren(
    card(
      "value_distribution",
      "How contract amounts are spread",
      [
        `Each bar counts the contracts whose amount falls in its range (${data.scale === "log" ? "ranges grow tenfold at equal steps" : "equal-width ranges"}); dashed lines mark the thresholds. ` +
          `The table gives, for each threshold, the contracts just below it (within ${data.band_percent} %), exactly on it, and just above.`,
        "A pile-up just below a threshold can mean purchases split or priced to stay under an approval limit. " +
          "It does NOT prove it: budgets are often set at round figures, and many honest contracts land there.",
      ],
      box,
      table(
        "Thresholds: contracts just below, on and just above",
        ["Threshold", "Just below", "Exactly on", "Just above"],
        data.thresholds.map((mark) => [
          `${money(mark.amount)}${mark.source === "configured" ? " (configured)" : ""}`,
          `${count(mark.count_just_below)} (${percent(mark.share_just_below)})`,
          `${count(mark.count_at)} (${percent(mark.share_at)})`,
          `${count(mark.count_just_above)} (${percent(mark.share_just_above)})`,
        ]),
      ),
      data.not_binned ? h("p", { class: "note" }, `${count(data.not_binned)} zero amounts are not on the log scale.`) : null,
    ),
  );
  draw("value_distribution", canvas, {
    type: "bar",
    data: {
      labels: data.bins.map((bin) => moneyCompact(bin.lower)),
      datasets: [
        {
          label: "Contracts",
          data: data.bins.map((bin) => bin.count),
          backgroundColor: COLORS.observed,
          barPercentage: 1,
          categoryPercentage: 1,
        },
      ],
    },
    options: {
      ...baseOptions(),
      plugins: {
        legend: { display: false },
        tooltip: {
          callbacks: {
            title: (items) => {
              const bin = data.bins[items[0].dataIndex];
              return `${money(bin.lower)} – ${money(bin.upper)}`;
            },
            label: (item) => `${count(item.raw)} contracts · ${money(data.bins[item.dataIndex].total_amount)}`,
          },
        },
      },
      scales: { y: { beginAtZero: true, title: { display: true, text: "Contracts" } } },
    },
    plugins: [thresholdLines(marks)],
  });
}

// --- Benford's law ---------------------------------------------------------------------------

function benfordChart(key, test, title) {
  const [canvas, box] = canvasBox(`${title}: observed against expected shares. ${test.conformity_text}`, test.digits.length > 9 ? 18 : 14);
  return {
    box,
    draw: () =>
      draw(key, canvas, {
        type: "bar",
        data: {
          labels: test.digits.map((d) => String(d.digit)),
          datasets: [
            { type: "bar", label: "Observed", data: test.digits.map((d) => d.observed_share), backgroundColor: COLORS.observed, order: 2 },
            {
              type: "line",
              label: "Expected (Benford)",
              data: test.digits.map((d) => d.expected_share),
              borderColor: COLORS.expected,
              backgroundColor: COLORS.expected,
              pointRadius: test.digits.length > 9 ? 0 : 3,
              order: 1,
            },
          ],
        },
        options: {
          ...baseOptions(),
          plugins: {
            tooltip: { callbacks: { label: (item) => `${item.dataset.label}: ${percent(item.raw)}` } },
          },
          scales: { y: { beginAtZero: true, ticks: { callback: percentTick } } },
        },
      }),
  };
}

export function renderBenford(container, data) {
  const first = benfordChart("benford_first", data.first_digit, "First digit");
  const firstTwo = benfordChart("benford_first_two", data.first_two_digits, "First two digits");
  const verdict = data.enough_data
    ? `First digit: ${data.first_digit.conformity_text} (mean absolute deviation ${data.first_digit.mad}). ` +
      `First two digits: ${data.first_two_digits.conformity_text} (MAD ${data.first_two_digits.mad}).`
    : `Too few contracts to judge: ${count(data.sample_size)} amounts, and the test needs at least ${count(data.minimum_sample)}.`;
  container.replaceChildren(
    card(
      "benford",
      "Benford's law: leading digits",
      [
        "In many natural collections of amounts, about 30 % start with a 1 and under 5 % with a 9 (the red line). " +
          "The bars are the shares in these contracts.",
        verdict,
        "A deviation is a reason to look closer, NOT evidence of fraud: price lists, caps and round budgets shift digits honestly.",
      ],
      h("div", { class: "benford-verdict", "data-conformity": data.first_digit.conformity }, verdict),
      first.box,
      h("h4", {}, "First two digits (10–99)"),
      firstTwo.box,
      table(
        "First digits: data table",
        ["Digit", "Observed", "Observed share", "Expected share"],
        data.first_digit.digits.map((d) => [String(d.digit), count(d.observed_count), percent(d.observed_share), percent(d.expected_share)]),
      ),
    ),
  );
  first.draw();
  firstTwo.draw();
}

// --- Rounding --------------------------------------------------------------------------------

export function renderRounding(container, data) {
  const [levelsCanvas, levelsBox] = canvasBox("Share of amounts that are whole multiples of each round figure.", 12);
  const [digitsCanvas, digitsBox] = canvasBox("Last peso digit of the amounts against the even 10 % each.", 12);
  container.replaceChildren(
    card(
      "rounding",
      "Round amounts",
      [
        "The first chart shows how many amounts are exact multiples of PHP 10 M, 1 M, 100 k, 10 k and 1 k; the second, how often each last peso digit occurs, against the 10 % each that unrounded amounts would show.",
        "Many round amounts suggest estimates or negotiated figures rather than itemised costs. That is NOT proof of anything wrong: many budgets are legitimately round.",
      ],
      levelsBox,
      digitsBox,
      table(
        "Trailing zeros: data table",
        ["Trailing zeros", "Contracts", "Share"],
        data.trailing_zeros.map((row) => [String(row.zeros), count(row.count), percent(row.share)]),
      ),
    ),
  );
  draw("rounding_levels", levelsCanvas, {
    type: "bar",
    data: {
      labels: data.levels.map((level) => `× ${moneyCompact(level.level)}`),
      datasets: [{ label: "Share of contracts", data: data.levels.map((level) => level.share || 0), backgroundColor: COLORS.rounding }],
    },
    options: {
      ...baseOptions(),
      indexAxis: "y",
      plugins: {
        legend: { display: false },
        tooltip: { callbacks: { label: (item) => `${percent(item.raw)} · ${count(data.levels[item.dataIndex].count)} contracts` } },
      },
      scales: { x: { beginAtZero: true, ticks: { callback: percentTick } } },
    },
  });
  draw("rounding_digits", digitsCanvas, {
    type: "bar",
    data: {
      labels: data.last_digit.digits.map((d) => String(d.digit)),
      datasets: [
        { type: "bar", label: "Observed", data: data.last_digit.digits.map((d) => d.share || 0), backgroundColor: COLORS.observed, order: 2 },
        { type: "line", label: "Even (10 %)", data: data.last_digit.digits.map((d) => d.expected_share), borderColor: COLORS.expected, pointRadius: 0, order: 1 },
      ],
    },
    options: {
      ...baseOptions(),
      plugins: { tooltip: { callbacks: { label: (item) => `${item.dataset.label}: ${percent(item.raw)}` } } },
      scales: { y: { beginAtZero: true, ticks: { callback: percentTick } } },
    },
  });
}

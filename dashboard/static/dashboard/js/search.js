// The search result: one page of contracts as a table (cards on a phone) with paging.

import { count, date, h, money } from "./format.js";
import { paginationControls } from "./pagination.js";

// Six columns fit a laptop's results panel: the reference rides under the award date and the
// area under the organization (a smaller second line). Names wrap between words; a title may
// break anywhere (long runs like "SUPPLY/DELIVERY/…" are common); amounts and dates never wrap.
const COLUMNS = [
  { label: "Award date", sub: "Reference", cell: (row) => [date(row.award_date), row.reference_id], kind: "nowrap" },
  { label: "Title", cell: (row) => row.title, kind: "title" },
  { label: "Contractor", cell: (row) => row.contractor },
  { label: "Organization", sub: "Area", cell: (row) => [row.organization, row.area || "—"] },
  { label: "Category", cell: (row) => row.business_category || "—" },
  { label: "Amount", cell: (row) => money(row.amount), kind: "num" },
];

/**
 * A cell's content: one value, or [value, second line]. A second line runs to three lines at
 * most (an area of delivery can list dozens of places); the whole of it is in its tooltip and
 * read out by screen readers.
 */
function lines(value) {
  return Array.isArray(value) ? [value[0], h("span", { class: "sub", title: value[1] }, value[1])] : [value];
}

export function renderSearch(container, data, { onPage = null } = {}) {
  const { results, pagination } = data;
  const caption = `Contracts, page ${count(pagination.page)} of ${count(pagination.total_pages)}`;
  const table = h(
    "table",
    { class: "stack", "data-results": "search" },
    h("caption", { class: "visually-hidden" }, caption),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        COLUMNS.map((column) =>
          h("th", { scope: "col", class: column.kind }, lines(column.sub ? [column.label, column.sub] : column.label)),
        ),
      ),
    ),
    h(
      "tbody",
      {},
      results.map((row) =>
        h(
          "tr",
          {},
          COLUMNS.map((column) =>
            h(
              "td",
              { "data-label": column.sub ? `${column.label} · ${column.sub}` : column.label, class: column.kind },
              lines(column.cell(row)),
            ),
          ),
        ),
      ),
    ),
  );
  container.replaceChildren(
    results.length ? h("div", { class: "table-wrap" }, table) : null,
    paginationControls(pagination, { noun: "contracts", onPage, label: "Search results pages" }),
  );
}

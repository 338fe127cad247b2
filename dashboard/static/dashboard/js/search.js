// The search result: one page of contracts as a table (cards on a phone) with paging.

import { count, date, h, money } from "./format.js";
import { paginationControls } from "./pagination.js";

const COLUMNS = [
  { label: "Award date", cell: (row) => date(row.award_date), nowrap: true },
  { label: "Reference", cell: (row) => row.reference_id, nowrap: true },
  { label: "Title", cell: (row) => row.title },
  { label: "Contractor", cell: (row) => row.contractor },
  { label: "Organization", cell: (row) => row.organization },
  { label: "Area", cell: (row) => row.area || "—" },
  { label: "Category", cell: (row) => row.business_category || "—" },
  { label: "Amount", cell: (row) => money(row.amount), numeric: true },
];

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
      h("tr", {}, COLUMNS.map((column) => h("th", { scope: "col", class: column.numeric ? "num" : null }, column.label))),
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
              { "data-label": column.label, class: column.numeric ? "num" : column.nowrap ? "nowrap" : null },
              column.cell(row),
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

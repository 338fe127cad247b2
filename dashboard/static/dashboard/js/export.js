// The export result: a link to the CSV, served to its owner only.

import { bytes, count, h } from "./format.js";

export function renderExport(container, data) {
  const details = [`${count(data.row_count)} contracts`, bytes(data.file_size)].filter(Boolean).join(", ");
  container.replaceChildren(
    h(
      "p",
      {},
      h("a", { href: data.download_url, download: data.filename || true, class: "download-link", "data-download": "" },
        `Download CSV (${details})`),
    ),
    h("p", { class: "note" }, "The file is kept for a limited time; export again if the link has expired."),
  );
}

// The case desk (issue 12): select all on the page, count the selection, show the action's own fields.
(function () {
  "use strict";
  const form = document.getElementById("bulk-form");
  if (!form) return;
  const boxes = () => Array.from(document.querySelectorAll("input.case-select"));
  const all = document.getElementById("select-all");
  const count = document.getElementById("bulk-count");
  const action = document.getElementById("bulk-action");

  function refresh() {
    const chosen = boxes().filter((box) => box.checked).length;
    count.textContent = String(chosen);
    if (all) all.checked = chosen > 0 && chosen === boxes().length;
  }

  function showFields() {
    form.querySelectorAll(".bulk-field").forEach((field) => {
      field.hidden = !(field.dataset.for || "").split(" ").includes(action.value);
    });
  }

  if (all) {
    all.addEventListener("change", () => {
      boxes().forEach((box) => { box.checked = all.checked; });
      refresh();
    });
  }
  boxes().forEach((box) => box.addEventListener("change", refresh));
  action.addEventListener("change", showFields);
  form.addEventListener("submit", (event) => {
    if (boxes().every((box) => !box.checked)) {
      event.preventDefault();
      count.classList.add("text-bg-danger");
      return;
    }
    const button = document.getElementById("bulk-submit");
    if (button) button.disabled = true;
  });
  showFields();
  refresh();
})();

// Select-all boxes of the lists: <input type=checkbox data-select-all="form-id"> ticks or
// clears every row box of that form on the page.
document.addEventListener("change", (event) => {
  const all = event.target.closest("input[data-select-all]");
  if (!all) return;
  const boxes = document.querySelectorAll(`input[type=checkbox][name=ids][form="${all.dataset.selectAll}"]`);
  for (const box of boxes) box.checked = all.checked;
});

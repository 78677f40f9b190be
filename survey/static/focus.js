// After a refused form, move the focus to the summary of what to correct, so that a
// screen reader reads it first and a keyboard user can follow its links to each field.
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.querySelector("[data-focus-on-load]");
  if (summary) { summary.focus(); }
});

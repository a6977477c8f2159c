/* SI-Gouvernance: keeps the keyboard focus where it was after an htmx swap.
   The button pressed (e.g. "Marquer comme lue") may leave with the swapped content:
   the focus goes to the first link or button of what replaced it, never to <body>. */
(function () {
  "use strict";
  let refocus = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    const target = event.detail.target;
    const inside = target && target.id && target.contains(document.activeElement);
    refocus = inside ? target.id : null;
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (refocus === null) return;
    const swapped = document.getElementById(refocus);
    refocus = null;
    const next = swapped && swapped.querySelector("a[href], button");
    if (next) next.focus();
  });
})();

// The book's own page script (Jupyter Book adds every .js file in _static to every page).
"use strict";

// Paper is white: a reader in dark mode would otherwise print light text on it. Print in the light
// theme, then put the reader's mode back.
let modeBeforePrint = null;
window.addEventListener("beforeprint", () => {
  modeBeforePrint = document.documentElement.dataset.theme;
  document.documentElement.dataset.theme = "light";
});
window.addEventListener("afterprint", () => {
  if (modeBeforePrint !== null) {
    document.documentElement.dataset.theme = modeBeforePrint;
    modeBeforePrint = null;
  }
});

// The printed title (the theme's print-only heading) carries the chapter number the screen shows,
// so a handout says "2. LeNet-5 with tanh" like the exercises in it ("Exercise 2.1").
document.addEventListener("DOMContentLoaded", () => {
  const number = document.querySelector(".bd-article h1 .section-number");
  const printTitle = document.querySelector("#jb-print-docs-body h1");
  if (number && printTitle && !printTitle.textContent.startsWith(number.textContent)) {
    printTitle.prepend(number.cloneNode(true));
  }
});

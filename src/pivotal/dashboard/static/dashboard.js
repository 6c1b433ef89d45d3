// Progressive enhancement only: every page works without this file.
"use strict";

// "Copy" buttons: copy the text of the element named by data-copy.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) return;
  const source = document.getElementById(button.dataset.copy);
  if (!source) return;
  const text = source.textContent.trim();
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // Older browsers or insecure origins: select the text so Ctrl+C works.
    const range = document.createRange();
    range.selectNodeContents(source);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    button.textContent = "Press Ctrl+C";
    return;
  }
  button.textContent = "Copied";
  setTimeout(() => { button.textContent = "Copy"; }, 2000);
});

// Drag and drop on the onboarding board: dropping a card on another column submits
// that card's own phase form, so the move runs exactly as with the "Phase" select
// (which stays for keyboards, screen readers and browsers without JavaScript).
const board = document.querySelector(".board");
if (board) {
  let dragged = null;
  for (const card of board.querySelectorAll(".card")) {
    card.draggable = true;
    card.addEventListener("dragstart", (event) => {
      dragged = card;
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", card.dataset.testid || "");
      card.classList.add("is-dragging");
    });
    card.addEventListener("dragend", () => {
      card.classList.remove("is-dragging");
      dragged = null;
    });
  }
  for (const column of board.querySelectorAll(".board__column")) {
    column.addEventListener("dragover", (event) => {
      if (!dragged) return;
      event.preventDefault();
      column.classList.add("is-drop-target");
    });
    column.addEventListener("dragleave", () => column.classList.remove("is-drop-target"));
    column.addEventListener("drop", (event) => {
      event.preventDefault();
      column.classList.remove("is-drop-target");
      if (!dragged) return;
      const select = dragged.querySelector('select[name="phase"]');
      if (!select || select.value === column.dataset.phase) return;
      select.value = column.dataset.phase;
      dragged.querySelector("form").requestSubmit();
    });
  }
}

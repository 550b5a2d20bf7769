/**
 * The stand-in host's entry (bundled as card-host.js): draws one of the real cards on a plain page.
 *
 * The page sets `window.IDV_HUBSPOT_HOST` (see `globals.d.ts`) before this script loads, and has an
 * element `#hubspot-card`. Both card modules run here, in this order, and each calls
 * `hubspot.extend`; the render function of the card the page names is drawn into `#hubspot-card`,
 * and the overlays (the iframe modal and the alerts) into a root of their own at the end of the body.
 */
import { createRoot } from "react-dom/client";

import "../src/app/cards/ContactCard.tsx";
import "../src/app/cards/DealCard.tsx";
import css from "./host.css";
import { HostOverlays, hostActions, registrations } from "./ui-extensions.tsx";

/** The cards in the order their modules are imported above, hence the order they registered. */
const CARDS = ["contact", "deal"] as const;

function mount() {
  const host = window.IDV_HUBSPOT_HOST;
  if (!host || typeof host !== "object") {
    throw new Error("card-host: set window.IDV_HUBSPOT_HOST before loading the script");
  }
  if (registrations.length !== CARDS.length) {
    throw new Error(`card-host: ${registrations.length} cards registered, expected ${CARDS.length}`);
  }
  const index = CARDS.indexOf(host.card);
  if (index < 0) {
    throw new Error(`card-host: unknown card ${JSON.stringify(host.card)} (contact or deal)`);
  }
  const target = document.getElementById("hubspot-card");
  if (!target) {
    throw new Error("card-host: the page has no #hubspot-card element");
  }

  const style = document.createElement("style");
  style.textContent = css;
  document.head.append(style);

  target.classList.add("hs-host");
  createRoot(target).render(registrations[index]({ context: host.context, actions: hostActions }));

  const overlays = document.createElement("div");
  overlays.className = "hs-host hs-overlays";
  document.body.append(overlays);
  createRoot(overlays).render(<HostOverlays />);
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", mount, { once: true });
} else {
  mount();
}

// What a page sets before it loads card-host.js (the stand-in host of the HubSpot cards).

/** The record page the card is drawn on, as HubSpot's `useExtensionContext()` gives it. */
interface IdvHubSpotContext {
  location: "crm.record.sidebar";
  /** `0-1` a contact, `0-3` a deal. */
  crm: { objectId: number; objectTypeId: "0-1" | "0-3" };
  portal: { id: number; timezone: string };
  /** `locale` is a tag such as `en-us`; HubSpot may also give a `language`. */
  user: { id: number; email: string; locale: string; language?: string };
}

interface IdvHubSpotHost {
  /** Which card to draw into `#hubspot-card`. */
  card: "contact" | "deal";
  context: IdvHubSpotContext;
  /** Same-origin URL `hubspot.fetch` posts its requests to (the stand-in for HubSpot's proxy). */
  fetchProxy: string;
  /** The backend origin the cards call and accept modal links under (no trailing slash). */
  backendOrigin: string;
}

interface Window {
  IDV_HUBSPOT_HOST: IdvHubSpotHost;
}

/** The host's style sheet, bundled as text and put into the page by the entry. */
declare module "*.css" {
  const text: string;
  export default text;
}

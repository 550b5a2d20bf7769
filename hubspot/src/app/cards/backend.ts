// Generated from hubspot/backend.json by `npm run set-origin`; edit that file, not this one.
/** The operator's backend origin: every card call and the details page live under it. */
export const BACKEND_ORIGIN = "https://idv.example.com";

/**
 * English: the reference catalogue. Every other language has exactly these keys (the `Catalogue`
 * type and `tests/catalogues.test.ts` say which one is missing or extra) and the same `{name}`
 * placeholders. A plural message is an object of Intl.PluralRules categories; `{count}` in it is
 * the number, formatted for the locale. "1Kosmos", "LiveID", "IAL1", "IAL2" and "NIST" are product
 * terms and stay as they are in every language.
 */
export const en = {
  "card.loading": "Loading the identity status…",
  "card.emptyContact": "No identity check yet for this contact.",
  "card.retry": "Try again",
  "card.loadFailed": "The identity status could not be loaded",

  "status.not_verified": "Not verified",
  "status.pending": "Pending",
  "status.verified": "Verified",
  "status.failed": "Failed",
  "status.expired": "Link expired unused",
  "status.lapsed": "Verification lapsed",

  "fact.assurance": "Assurance",
  "fact.assuranceValue": "{level} (NIST {revision})",
  "fact.document": "Document",
  "fact.nameOnId": "Name on ID",
  "fact.match": "Match confidence",
  "fact.verified": "Verified on",
  "fact.validUntil": "Valid until",
  "fact.liveid": "LiveID",
  "fact.liveidEnrolled": "Enrolled",
  "fact.liveidNotEnrolled": "Not enrolled",
  "fact.lastStepUp": "Last step-up",
  "fact.never": "Never",

  "document.drivers_license": "Driver's license",
  "document.passport": "Passport",
  "document.national_id": "National ID",

  "match.match": "Matches the contact",
  "match.partial": "Matches in part",
  "match.mismatch": "Does not match the contact",

  "delivery.show": "Show the link here",
  "delivery.email": "Email it to the contact",
  "delivery.sms": "Text it to the contact (SMS)",

  "ial.IAL2": "IAL2: document and selfie",
  "ial.IAL1": "IAL1: basic",

  "pending.title": "Waiting for the contact",
  "pending.email": "The link went to the contact by email.",
  "pending.sms": "The link went to the contact by text message.",
  "pending.show": "Give the contact this link.",
  "pending.until": "The link works until {date}.",
  "pending.copy": "Copy link",
  "pending.deliveryFailed": "The link could not be sent: {reason}",

  "failed.title": "The last verification failed",
  "failed.noReason": "The identity provider gave no reason.",
  "expired.title": "The last link expired unused",
  "expired.body": "The contact did not open it in time. Send it again in one click.",
  "lapsed.title": "The verification has lapsed",
  "lapsed.body": "It ran out or the contact's details changed. Verify the contact again.",

  "action.verify": "Verify Identity",
  "action.verifyAgain": "Verify again",
  "action.stepUp": "Step-Up Auth",
  "action.resend": "Resend link",
  "action.details": "Open details",
  "action.send": "Create link",
  "action.cancel": "Cancel",

  "form.ial": "Assurance level",
  "form.delivery": "Send the link",

  "done.verify": "Verification link created.",
  "done.stepUp": "Step-up started: the contact confirms with LiveID.",
  "done.resend": "Link sent again.",
  "done.title": "Done",
  "error.title": "That did not work",

  "modal.contactTitle": "Identity verification",
  "modal.dealTitle": "Identity verification for this deal",

  "setup.title": "An admin needs to finish setting up identity verification",
  "setup.gap": "{label}: {problem}",

  "deal.gate": "Stage gate",
  "deal.stage": "Stage",
  "deal.noStage": "No stage",
  "deal.gated": "Needs a verified contact",
  "deal.notGated": "This stage needs no verification",
  "deal.satisfied": "Satisfied",
  "deal.notSatisfied": "Not satisfied",
  "deal.gatedStages": { one: "Gated stage", other: "Gated stages" },
  "deal.none": "None",
  "deal.primaryContact": "Primary contact",
  "deal.noContact": "This deal has no primary contact, so no one can be verified for it.",
  "deal.lastStepUp": "Last step-up on this deal",
  "deal.stepUpValue": "{state} · {date}",
  "deal.blocked": "Moving this deal into this stage needs the primary contact verified first.",

  "session.pending": "In progress",
  "session.verified": "Passed",
  "session.failed": "Failed",
  "session.expired": "Expired unused",
  "session.canceled": "Canceled",
  "session.lapsed": "Lapsed",

  "error.network": "The identity service could not be reached. Try again in a moment.",
  "error.http": "The identity service answered with an error ({status}). Try again in a moment.",
  "error.unreadable": "The identity service sent an answer the card cannot read.",
} as const;

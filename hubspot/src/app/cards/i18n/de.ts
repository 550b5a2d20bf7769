/** German (de, de-AT, de-CH…), "Sie". */
import type { Catalogue } from "./types.ts";

export const de: Catalogue = {
  "card.loading": "Identitätsstatus wird geladen…",
  "card.emptyContact": "Für diesen Kontakt gibt es noch keine Identitätsprüfung.",
  "card.retry": "Erneut versuchen",
  "card.loadFailed": "Der Identitätsstatus konnte nicht geladen werden",

  "status.not_verified": "Nicht verifiziert",
  "status.pending": "Ausstehend",
  "status.verified": "Verifiziert",
  "status.failed": "Fehlgeschlagen",
  "status.expired": "Link ungenutzt abgelaufen",
  "status.lapsed": "Verifizierung abgelaufen",

  "fact.assurance": "Vertrauensniveau",
  "fact.assuranceValue": "{level} (NIST {revision})",
  "fact.document": "Dokument",
  "fact.nameOnId": "Name im Ausweis",
  "fact.match": "Übereinstimmung",
  "fact.verified": "Verifiziert am",
  "fact.validUntil": "Gültig bis",
  "fact.liveid": "LiveID",
  "fact.liveidEnrolled": "Registriert",
  "fact.liveidNotEnrolled": "Nicht registriert",
  "fact.lastStepUp": "Letzte Step-up-Prüfung",
  "fact.never": "Nie",

  "document.drivers_license": "Führerschein",
  "document.passport": "Reisepass",
  "document.national_id": "Personalausweis",

  "match.match": "Stimmt mit dem Kontakt überein",
  "match.partial": "Stimmt teilweise überein",
  "match.mismatch": "Stimmt nicht mit dem Kontakt überein",

  "delivery.show": "Link hier anzeigen",
  "delivery.email": "Per E-Mail an den Kontakt senden",
  "delivery.sms": "Per SMS an den Kontakt senden",

  "ial.IAL2": "IAL2: Ausweis und Selfie",
  "ial.IAL1": "IAL1: Basis",

  "pending.title": "Warten auf den Kontakt",
  "pending.email": "Der Link wurde per E-Mail an den Kontakt gesendet.",
  "pending.sms": "Der Link wurde per SMS an den Kontakt gesendet.",
  "pending.show": "Geben Sie dem Kontakt diesen Link.",
  "pending.until": "Der Link gilt bis {date}.",
  "pending.copy": "Link kopieren",
  "pending.deliveryFailed": "Der Link konnte nicht gesendet werden: {reason}",

  "failed.title": "Die letzte Verifizierung ist fehlgeschlagen",
  "failed.noReason": "Der Identitätsanbieter hat keinen Grund genannt.",
  "expired.title": "Der letzte Link ist ungenutzt abgelaufen",
  "expired.body": "Der Kontakt hat ihn nicht rechtzeitig geöffnet. Mit einem Klick erneut senden.",
  "lapsed.title": "Die Verifizierung ist abgelaufen",
  "lapsed.body": "Sie ist abgelaufen oder die Kontaktdaten haben sich geändert. Verifizieren Sie den Kontakt erneut.",

  "action.verify": "Identität prüfen",
  "action.verifyAgain": "Erneut prüfen",
  "action.stepUp": "Step-up-Prüfung",
  "action.resend": "Link erneut senden",
  "action.details": "Details öffnen",
  "action.send": "Link erstellen",
  "action.cancel": "Abbrechen",

  "form.ial": "Vertrauensniveau",
  "form.delivery": "Link senden",

  "done.verify": "Verifizierungslink erstellt.",
  "done.stepUp": "Step-up gestartet: Der Kontakt bestätigt mit LiveID.",
  "done.resend": "Link erneut gesendet.",
  "done.title": "Erledigt",
  "error.title": "Das hat nicht geklappt",

  "modal.contactTitle": "Identitätsprüfung",
  "modal.dealTitle": "Identitätsprüfung für diesen Deal",

  "setup.title": "Ein Admin muss die Einrichtung der Identitätsprüfung abschließen",
  "setup.gap": "{label}: {problem}",

  "deal.gate": "Phasensperre",
  "deal.stage": "Phase",
  "deal.noStage": "Keine Phase",
  "deal.gated": "Erfordert einen verifizierten Kontakt",
  "deal.notGated": "Diese Phase erfordert keine Verifizierung",
  "deal.satisfied": "Erfüllt",
  "deal.notSatisfied": "Nicht erfüllt",
  "deal.gatedStages": { one: "Gesperrte Phase", other: "Gesperrte Phasen" },
  "deal.none": "Keine",
  "deal.primaryContact": "Primärer Kontakt",
  "deal.noContact": "Dieser Deal hat keinen primären Kontakt, daher kann niemand verifiziert werden.",
  "deal.lastStepUp": "Letzte Step-up-Prüfung für diesen Deal",
  "deal.stepUpValue": "{state} · {date}",
  "deal.blocked": "Um diesen Deal in diese Phase zu verschieben, muss zuerst der primäre Kontakt verifiziert sein.",

  "session.pending": "Läuft",
  "session.verified": "Bestanden",
  "session.failed": "Fehlgeschlagen",
  "session.expired": "Ungenutzt abgelaufen",
  "session.canceled": "Abgebrochen",
  "session.lapsed": "Abgelaufen",

  "error.network": "Der Identitätsdienst ist nicht erreichbar. Versuchen Sie es gleich noch einmal.",
  "error.http": "Der Identitätsdienst hat mit einem Fehler geantwortet ({status}). Versuchen Sie es gleich noch einmal.",
  "error.unreadable": "Der Identitätsdienst hat eine Antwort gesendet, die die Karte nicht lesen kann.",
};

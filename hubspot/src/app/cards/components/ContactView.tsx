import {
  Alert,
  Button,
  Flex,
  Select,
  Text,
  useExtensionActions,
  useExtensionContext,
} from "@hubspot/ui-extensions";
import { useCallback, useState } from "react";

import {
  getContactStatus,
  newIdempotencyKey,
  resendLink,
  startContactStepUp,
  startVerification,
  type ContactStatus,
  type Delivery,
  type IalLevel,
} from "../api.ts";
import { failureText, lastIdv, resendable } from "../format.ts";
import { useI18n } from "../i18n/index.ts";
import { ContactFacts } from "./ContactFacts.tsx";
import { SetupAlert } from "./SetupAlert.tsx";
import { LoadError, Loading, NoticeAlert } from "./states.tsx";
import { openDetails, useCard, type Busy } from "./useCard.ts";

const IAL_CHOICES: IalLevel[] = ["IAL2", "IAL1"];

/** The contact card: badge, facts, and Verify Identity, Step-Up Auth, Resend link, Open details. */
export function ContactView() {
  const context = useExtensionContext<"crm.record.sidebar">();
  const actions = useExtensionActions<"crm.record.sidebar">();
  const i18n = useI18n();
  const { t } = i18n;
  const contactId = context.crm.objectId;
  const timeZone = context.portal?.timezone;
  const fetcher = useCallback(() => getContactStatus(contactId), [contactId]);
  const { load, busy, notice, retry, refresh, run } = useCard(fetcher);

  if (load.kind === "loading") {
    return <Loading />;
  }
  if (load.kind === "error") {
    return <LoadError error={load.error} onRetry={retry} />;
  }
  const contact = load.data;

  const details = () =>
    run("details", async () => {
      await openDetails(
        actions.openIframeModal,
        "contacts",
        contactId,
        { title: t("modal.contactTitle"), locale: i18n.tag },
        () => void refresh(),
      );
      return null;
    });
  const stepUp = () =>
    run("stepup", async () => {
      await startContactStepUp(contactId, newIdempotencyKey());
      // The QR code and its countdown are drawn by the details page.
      await openDetails(
        actions.openIframeModal,
        "contacts",
        contactId,
        { title: t("modal.contactTitle"), locale: i18n.tag },
        () => void refresh(),
      );
      return t("done.stepUp");
    });

  return (
    <Flex direction="column" gap="sm">
      <SetupAlert setup={contact.setup} />
      <ContactFacts contact={contact} timeZone={timeZone} />
      <StatusNote
        contact={contact}
        timeZone={timeZone}
        busy={busy}
        onCopy={(url) => void actions.copyTextToClipboard(url)}
        onResend={(id) =>
          run("resend", async () => {
            const answer = await resendLink(id, newIdempotencyKey());
            return answer.message ? i18n.bidi(answer.message) : t("done.resend");
          })
        }
      />
      <NoticeAlert notice={notice} />
      <VerifyControls
        contact={contact}
        busy={busy}
        onStart={(ial, delivery) =>
          run("verify", async () => {
            await startVerification(contactId, {
              ial,
              delivery,
              force: contact.status === "pending" || contact.status === "verified",
              idempotency_key: newIdempotencyKey(),
            });
            return t("done.verify");
          })
        }
      />
      <Flex direction="row" gap="sm" wrap>
        {contact.liveid_enrolled ? (
          <Button testId="idv-stepup" variant="secondary" disabled={busy !== null} onClick={stepUp}>
            {t("action.stepUp")}
          </Button>
        ) : null}
        <Button testId="idv-details" variant="transparent" disabled={busy !== null} onClick={details}>
          {t("action.details")}
        </Button>
      </Flex>
    </Flex>
  );
}

/** What the status asks of the rep: the pending link, the failure, the expired link, the lapse. */
function StatusNote({
  contact,
  timeZone,
  busy,
  onCopy,
  onResend,
}: {
  contact: ContactStatus;
  timeZone?: string;
  busy: Busy;
  onCopy: (url: string) => void;
  onResend: (verificationId: string) => void;
}) {
  const i18n = useI18n();
  const { t } = i18n;
  const again = resendable(contact);
  const resend = again ? (
    <Button testId="idv-resend" variant="primary" disabled={busy !== null} onClick={() => onResend(again.id)}>
      {t("action.resend")}
    </Button>
  ) : null;
  const current = contact.current;

  if (contact.status === "pending" && current) {
    const delivery = current.delivery ?? "show";
    return (
      <Alert testId="idv-pending" title={t("pending.title")} variant="info">
        <Flex direction="column" gap="xs">
          <Text>{t(`pending.${delivery}`)}</Text>
          {current.session_expires_at ? (
            <Text>{t("pending.until", { date: i18n.date(current.session_expires_at, timeZone) })}</Text>
          ) : null}
          {current.delivery_error ? (
            <Text testId="idv-delivery-error">{t("pending.deliveryFailed", { reason: current.delivery_error })}</Text>
          ) : null}
          {delivery === "show" && current.hosted_url ? (
            <Button testId="idv-copy" variant="secondary" onClick={() => onCopy(current.hosted_url ?? "")}>
              {t("pending.copy")}
            </Button>
          ) : null}
          {resend}
        </Flex>
      </Alert>
    );
  }
  if (contact.status === "failed") {
    const last = lastIdv(contact);
    const failure = last && failureText(i18n, last);
    return (
      <Alert testId="idv-failed" title={t("failed.title")} variant="error">
        {failure ?? t("failed.noReason")}
      </Alert>
    );
  }
  if (contact.status === "expired") {
    return (
      <Alert testId="idv-expired" title={t("expired.title")} variant="warning">
        <Flex direction="column" gap="xs">
          <Text>{t("expired.body")}</Text>
          {resend}
        </Flex>
      </Alert>
    );
  }
  if (contact.status === "lapsed") {
    return (
      <Alert testId="idv-lapsed" title={t("lapsed.title")} variant="warning">
        {t("lapsed.body")}
      </Alert>
    );
  }
  return null;
}

/** Verify Identity, then its short form: the level and the deliveries the backend offers. */
function VerifyControls({
  contact,
  busy,
  onStart,
}: {
  contact: ContactStatus;
  busy: Busy;
  onStart: (ial: IalLevel, delivery: Delivery) => void;
}) {
  const { t } = useI18n();
  const offered: Delivery[] = contact.deliveries.length > 0 ? contact.deliveries : ["show"];
  const [open, setOpen] = useState(false);
  const [ial, setIal] = useState<IalLevel>("IAL2");
  const [chosen, setChosen] = useState<Delivery>(offered[0]);
  const delivery = offered.includes(chosen) ? chosen : offered[0];

  if (!open) {
    const again = contact.status === "verified" || contact.status === "pending";
    return (
      <Button
        testId="idv-verify"
        variant={again ? "secondary" : "primary"}
        disabled={busy !== null}
        onClick={() => setOpen(true)}
      >
        {again ? t("action.verifyAgain") : t("action.verify")}
      </Button>
    );
  }
  return (
    <Flex direction="column" gap="sm" testId="idv-verify-form">
      <Select
        testId="idv-ial"
        label={t("form.ial")}
        value={ial}
        options={IAL_CHOICES.map((level) => ({ value: level, label: t(`ial.${level}`) }))}
        onChange={(value) => setIal(value === "IAL1" ? "IAL1" : "IAL2")}
      />
      <Select
        testId="idv-delivery"
        label={t("form.delivery")}
        value={delivery}
        options={offered.map((d) => ({ value: d, label: t(`delivery.${d}`) }))}
        onChange={(value) => {
          const picked = offered.find((d) => d === value);
          if (picked) {
            setChosen(picked);
          }
        }}
      />
      <Flex direction="row" gap="sm">
        <Button
          testId="idv-send"
          variant="primary"
          disabled={busy !== null}
          onClick={() => {
            setOpen(false);
            onStart(ial, delivery);
          }}
        >
          {t("action.send")}
        </Button>
        <Button testId="idv-cancel" variant="transparent" onClick={() => setOpen(false)}>
          {t("action.cancel")}
        </Button>
      </Flex>
    </Flex>
  );
}

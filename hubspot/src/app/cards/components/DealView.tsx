import {
  Alert,
  Button,
  DescriptionList,
  DescriptionListItem,
  Divider,
  Flex,
  Tag,
  Text,
  useExtensionActions,
  useExtensionContext,
} from "@hubspot/ui-extensions";
import { useCallback } from "react";

import { getDealStatus, newIdempotencyKey, startDealStepUp, type DealStatus } from "../api.ts";
import { useI18n } from "../i18n/index.ts";
import { ContactFacts } from "./ContactFacts.tsx";
import { SetupAlert } from "./SetupAlert.tsx";
import { LoadError, Loading, NoticeAlert } from "./states.tsx";
import { openDetails, useCard } from "./useCard.ts";

/** The deal card: the stage gate, the primary contact's status, Step-Up Auth, Open details. */
export function DealView() {
  const context = useExtensionContext<"crm.record.sidebar">();
  const actions = useExtensionActions<"crm.record.sidebar">();
  const { t, tag } = useI18n();
  const dealId = context.crm.objectId;
  const timeZone = context.portal?.timezone;
  const fetcher = useCallback(() => getDealStatus(dealId), [dealId]);
  const { load, busy, notice, refresh, retry, run } = useCard(fetcher);

  if (load.kind === "loading") {
    return <Loading />;
  }
  if (load.kind === "error") {
    return <LoadError error={load.error} onRetry={retry} />;
  }
  const deal = load.data;
  const contact = deal.primary_contact;
  const open = () =>
    openDetails(
      actions.openIframeModal,
      "deals",
      dealId,
      { title: t("modal.dealTitle"), locale: tag },
      () => void refresh(),
    );

  return (
    <Flex direction="column" gap="sm">
      <SetupAlert setup={deal.setup} />
      <Gate deal={deal} timeZone={timeZone} />
      <Divider />
      <Text format={{ fontWeight: "demibold" }}>{t("deal.primaryContact")}</Text>
      {contact ? (
        <ContactFacts contact={contact} timeZone={timeZone} />
      ) : (
        <Text testId="idv-no-contact">{t("deal.noContact")}</Text>
      )}
      <NoticeAlert notice={notice} />
      <Flex direction="row" gap="sm" wrap>
        {contact?.liveid_enrolled ? (
          <Button
            testId="idv-stepup"
            variant="primary"
            disabled={busy !== null}
            onClick={() =>
              run("stepup", async () => {
                await startDealStepUp(dealId, newIdempotencyKey());
                // The QR code and its countdown are drawn by the details page.
                await open();
                return t("done.stepUp");
              })
            }
          >
            {t("action.stepUp")}
          </Button>
        ) : null}
        <Button
          testId="idv-details"
          variant="transparent"
          disabled={busy !== null}
          onClick={() =>
            run("details", async () => {
              await open();
              return null;
            })
          }
        >
          {t("action.details")}
        </Button>
      </Flex>
    </Flex>
  );
}

function Gate({ deal, timeZone }: { deal: DealStatus; timeZone?: string }) {
  const i18n = useI18n();
  const { t } = i18n;
  const stepup = deal.stepup;
  return (
    <Flex direction="column" gap="sm">
      <DescriptionList testId="idv-gate" direction="row">
        <DescriptionListItem label={t("deal.stage")}>
          <Text>{deal.stage ? i18n.bidi(deal.stage.name) : t("deal.noStage")}</Text>
        </DescriptionListItem>
        <DescriptionListItem label={t("deal.gate")}>
          {deal.gated ? (
            <Flex direction="row" gap="xs" wrap>
              <Text>{t("deal.gated")}</Text>
              <Tag testId="idv-gate-tag" variant={deal.gate_satisfied ? "success" : "error"}>
                {deal.gate_satisfied ? t("deal.satisfied") : t("deal.notSatisfied")}
              </Tag>
            </Flex>
          ) : (
            <Text>{t("deal.notGated")}</Text>
          )}
        </DescriptionListItem>
        <DescriptionListItem label={i18n.plural("deal.gatedStages", deal.gated_stages.length)}>
          <Text>
            {deal.gated_stages.length > 0 ? i18n.list(deal.gated_stages.map((s) => s.name)) : t("deal.none")}
          </Text>
        </DescriptionListItem>
        {stepup ? (
          <DescriptionListItem label={t("deal.lastStepUp")}>
            <Text testId="idv-deal-stepup">
              {t("deal.stepUpValue", {
                state: t(`session.${stepup.state}`),
                date: i18n.date(stepup.completed_at ?? stepup.created_at, timeZone),
              })}
            </Text>
          </DescriptionListItem>
        ) : null}
      </DescriptionList>
      {deal.gated && !deal.gate_satisfied ? (
        <Alert testId="idv-gate-blocked" title={t("deal.notSatisfied")} variant="warning">
          {t("deal.blocked")}
        </Alert>
      ) : null}
    </Flex>
  );
}

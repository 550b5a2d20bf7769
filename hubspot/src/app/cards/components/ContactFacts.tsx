import { DescriptionList, DescriptionListItem, Flex, Tag, Text } from "@hubspot/ui-extensions";

import type { ContactStatus } from "../api.ts";
import { contactFacts, STATUS_VARIANT, statusLabel } from "../format.ts";
import { useI18n } from "../i18n/index.ts";

/** The badge and the facts of one contact. */
export function ContactFacts({ contact, timeZone }: { contact: ContactStatus; timeZone?: string }) {
  const i18n = useI18n();
  const empty = contact.status === "not_verified" && contact.history.length === 0;
  return (
    <Flex direction="column" gap="sm">
      <Tag testId="idv-badge" variant={STATUS_VARIANT[contact.status]}>
        {statusLabel(contact.status, i18n)}
      </Tag>
      {empty ? <Text testId="idv-empty">{i18n.t("card.emptyContact")}</Text> : null}
      <DescriptionList testId="idv-facts" direction="row">
        {contactFacts(contact, i18n, timeZone).map((fact) => (
          <DescriptionListItem key={fact.key} testId={`idv-fact-${fact.key}`} label={fact.label}>
            <Text>{fact.value}</Text>
          </DescriptionListItem>
        ))}
      </DescriptionList>
    </Flex>
  );
}

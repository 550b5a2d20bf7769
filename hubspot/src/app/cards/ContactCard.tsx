import { hubspot } from "@hubspot/ui-extensions";

import { ContactView } from "./components/ContactView.tsx";

hubspot.extend<"crm.record.sidebar">(() => <ContactView />);

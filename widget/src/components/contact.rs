//! The contact page: facts, Verify Identity and (for an enrolled contact) Step-Up Auth, history
//! and activity.

use leptos::prelude::*;

use super::{
    ActionBar, ActivityList, Facts, FreshNote, History, SetupBanner, StaleNote, StepUpPanel,
    VerifyPanel,
};
use crate::{model::Record, Driver};

/// The contact page.
#[component]
pub fn ContactBody(d: Driver) -> impl IntoView {
    let model = d.model;
    let contact = Memo::new(move |_| model.with(|m| m.record().and_then(Record::contact).cloned()));
    view! {
        <SetupBanner d=d />
        <StaleNote d=d />
        {move || contact.get().map(|c| view! { <Facts contact=c /> })}
        <FreshNote d=d />
        <StepUpPanel d=d />
        <ActionBar d=d />
        <VerifyPanel d=d />
        {move || contact.get().map(|c| view! { <History items=c.history /> })}
        <ActivityList d=d />
    }
}

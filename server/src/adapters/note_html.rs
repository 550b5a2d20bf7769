//! The one escaping rule for the text of every CRM note. Freshsales and Freshdesk both render a
//! note's body as HTML, and a note carries text from outside (the rep's `requested_by`, a
//! provider's failure reason, a chat user's name): it goes in as text (`&`, `<`, `>` escaped;
//! quotes are plain text in a body), line breaks kept, so no
//! one's input becomes markup on a record every user of the account opens.

/// `text` as an HTML note body.
pub fn escape(text: &str) -> String {
    html_escape::encode_text(text).replace('\n', "<br>")
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn markup_in_a_note_arrives_as_text() {
        assert_eq!(
            escape("<b>Jane</b> & co's \"x\"\nnext"),
            "&lt;b&gt;Jane&lt;/b&gt; &amp; co's \"x\"<br>next"
        );
    }
}

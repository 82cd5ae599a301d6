//! The public quiz at `/q/{slug}`: one question per step, rendered whole on
//! the server so it works with JavaScript off (plain form posts to the same
//! address), and advancing in place when the WebAssembly has loaded.

pub mod api;
mod history;
mod pages;
#[cfg(feature = "ssr")]
pub mod ssr;
pub mod steps;

#[cfg(feature = "hydrate")]
pub use pages::submitted_fields;
pub use pages::{OutcomeCard, QuizPage, ResultPage, StepCard, brand_style};

use serde::{Deserialize, Serialize};

/// Where a respondent is in a quiz, as the page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PublicQuiz {
    /// No published quiz at this address.
    NotFound,
    Step(Box<StepView>),
    /// Every question is answered: the result page is next.
    Finished {
        slug: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepView {
    pub slug: String,
    pub title: String,
    pub intro: String,
    pub brand_color: String,
    pub logo_url: String,
    pub question: QuestionView,
    /// Questions answered so far and the expected total.
    pub done: usize,
    pub total: usize,
    pub can_go_back: bool,
    pub last: bool,
    /// Why the last post was refused, for the field it belongs to.
    pub error: Option<(String, String)>,
    /// Values to show in the fields: the earlier answer, or what was just
    /// posted when it was refused.
    pub values: Vec<(String, String)>,
    /// Query parameters of the first visit (UTM and others), posted back.
    pub hidden_fields: Vec<(String, String)>,
    /// When the first question was first shown, signed by the server
    /// (`<ms>.<signature>`), posted back with the first answer: the minimum
    /// time to finish counts from here.
    pub started: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuestionView {
    pub key: String,
    /// `single`, `multi`, `scale`, `text` or `contact`.
    pub kind: String,
    pub prompt: String,
    pub help: String,
    pub required: bool,
    pub options: Vec<(String, String)>,
    pub scale: Option<(i64, i64)>,
    /// For contact steps: `email`, `name`, `company`, `consent`.
    pub fields: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultView {
    pub slug: String,
    pub quiz_title: String,
    pub brand_color: String,
    pub title: String,
    pub body: String,
    pub cta_label: String,
    pub cta_url: String,
    pub score: f64,
    /// The offer to get the result by email, when the quiz's lead gate is
    /// after the result and it has not asked for an email itself.
    pub lead: Option<LeadOffer>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct LeadOffer {
    /// The email the result goes to, once given.
    pub sent_to: Option<String>,
    /// Why the last post was refused, for the field it belongs to.
    pub error: Option<(String, String)>,
    /// What was posted, shown again when it was refused.
    pub values: Vec<(String, String)>,
}

impl StepView {
    pub fn value(&self, field: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(k, _)| k == field)
            .map(|(_, v)| v.as_str())
    }

    pub fn has_value(&self, field: &str, value: &str) -> bool {
        self.values.iter().any(|(k, v)| k == field && v == value)
    }

    pub fn error_for(&self, field: &str) -> Option<&str> {
        self.error
            .as_ref()
            .filter(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }
}

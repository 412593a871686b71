//! `pyxa ask --image PHOTO "question"`: against a running server (`--url`) or in-process.

use anyhow::{Context, Result};

use pyxa_engine::{AnswerSettings, AskRequest, Mode};

use crate::bootstrap::App;
use crate::config::{AskArgs, CommonArgs};
use crate::http::views::AskResponseView;

pub async fn ask(common: CommonArgs, args: AskArgs) -> Result<()> {
    let image = match &args.image {
        Some(p) => Some(std::fs::read(p).with_context(|| format!("reading {}", p.display()))?),
        None => None,
    };
    let response: serde_json::Value = match &args.url {
        Some(url) => {
            let mut form = reqwest::multipart::Form::new()
                .text("prompt", args.prompt.clone())
                .text("collection", args.collection.clone())
                .text("mode", args.mode.clone());
            if let Some(bytes) = image {
                form = form.part("image", reqwest::multipart::Part::bytes(bytes).file_name("photo"));
            }
            let res = reqwest::Client::new().post(format!("{}/v1/ask", url.trim_end_matches('/'))).multipart(form).send().await?;
            let status = res.status();
            let body: serde_json::Value = res.json().await?;
            if !status.is_success() {
                anyhow::bail!("{}: {}", status, body["error"]["message"].as_str().unwrap_or("request failed"));
            }
            body
        }
        None => {
            let settings = AnswerSettings { max_answer_tokens: args.generator.max_answer_tokens, ..Default::default() };
            let app = App::build(&common, &args.stores, &args.generator, settings).await?;
            let mut request = AskRequest::new(args.collection.clone(), Some(args.prompt.clone()), image);
            request.mode = Some(Mode::parse(&args.mode)?);
            serde_json::to_value(AskResponseView::from(&app.answers.ask(request, None).await?))?
        }
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&response)?);
    } else {
        println!("{}", response["answer"].as_str().unwrap_or(""));
        for c in response["candidates"].as_array().into_iter().flatten().take(5) {
            let p = c["probability"].as_f64().unwrap_or(0.0);
            println!("  {:>5.1}%  {}", p * 100.0, c["label"].as_str().unwrap_or(""));
        }
    }
    Ok(())
}

//! The domain with fakes (deterministic encoder, scripted generator, in-memory vectors and
//! photos) and a real SQLite file: fusion, verification, follow-ups, teaching, query mode,
//! streaming events, in milliseconds.

use std::sync::Arc;

use pyxa_core::text::Language;
use pyxa_core::{Generator, MetadataStore, Role};
use pyxa_engine::answer::events::AskEvent;
use pyxa_engine::answer::AnswerSource;
use pyxa_engine::teach::{FeedbackInput, FeedbackStatus};
use pyxa_engine::testing::{photo, FakeEncoder, FakeImageStore, MemoryVectorStore, ScriptedGenerator};
use pyxa_engine::{AnswerSettings, AskRequest, AskService, ItemInput, KnowledgeBase, Mode};

const CLASSES: &[(&str, &str)] = &[("tabby cat", "虎斑猫"), ("espresso", "浓缩咖啡"), ("rocket", "火箭"), ("dog", "狗")];

async fn sqlite(tag: &str) -> Arc<dyn MetadataStore> {
    let dir = std::env::temp_dir().join(format!("pyxa-engine-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.join("t.sqlite").display());
    Arc::new(pyxa_meta::SqlStore::connect(&url).await.expect("sqlite"))
}

async fn kb(tag: &str) -> KnowledgeBase {
    let kb = KnowledgeBase::new(
        Arc::new(FakeEncoder::new(CLASSES)),
        Arc::new(MemoryVectorStore::default()),
        sqlite(tag).await,
        Arc::new(FakeImageStore::default()),
    );
    kb.open().await.expect("open");
    kb
}

fn service(kb: &KnowledgeBase, generator: Option<ScriptedGenerator>) -> AskService {
    AskService::new(kb.clone(), generator.map(|g| Arc::new(g) as Arc<dyn Generator>), AnswerSettings::default())
}

async fn add(kb: &KnowledgeBase, collection: &str, what: &str, label: &str) {
    let input = ItemInput { image: Some(photo(what)), label: Some(label.into()), ..Default::default() };
    kb.add_item(collection, input).await.expect("add");
}

fn ask(prompt: &str, image: Option<&str>) -> AskRequest {
    AskRequest::new("default", Some(prompt.to_string()), image.map(photo))
}

#[tokio::test]
async fn a_labelled_collection_decides_and_the_llm_words_are_kept_when_right() {
    let kb = kb("fusion").await;
    add(&kb, "default", "grey cat sofa", "cat").await;
    add(&kb, "default", "black cat garden", "cat").await;
    add(&kb, "default", "small dog park", "dog").await;
    let answers = service(&kb, Some(ScriptedGenerator::replying("This is a cat.")));
    let r = answers.ask(ask("This is an animal, what is it?", Some("grey cat window")), None).await.unwrap();
    assert_eq!(r.candidates[0].label, "cat", "{:?}", r.candidates);
    assert!(r.confident);
    assert_eq!(r.answer_source, AnswerSource::Llm);
    assert!(r.answer.starts_with("This is a cat."), "{}", r.answer);
    assert!(r.answer.contains("[1]"), "cites its evidence: {}", r.answer);
    let sum: f32 = r.candidates.iter().map(|c| c.probability).sum();
    assert!(sum <= 1.0001, "{sum}");
    assert!(r.citations.iter().all(|c| c.image.is_some()), "citations carry the photo id, not a URL");
    // A photo unlike the one asked about is no evidence for it: not cited, not shown.
    assert!(r.citations.iter().all(|c| c.label.as_deref() == Some("cat")), "{:?}", r.citations);
    assert!(!r.citations.is_empty());
}

#[tokio::test]
async fn a_wrong_or_mixed_up_llm_answer_is_replaced_by_the_template() {
    let kb = kb("verify").await;
    add(&kb, "default", "grey cat sofa", "cat").await;
    add(&kb, "default", "small dog park", "dog").await;
    for reply in ["This is a dog.", "A cat or a dog.", "The top labels are: cat."] {
        let answers = service(&kb, Some(ScriptedGenerator::replying(reply)));
        let r = answers.ask(ask("What is it?", Some("grey cat sofa")), None).await.unwrap();
        assert_eq!(r.answer_source, AnswerSource::Template, "{reply:?} -> {}", r.answer);
        assert!(r.answer.starts_with("It is a cat ("), "{}", r.answer);
    }
}

#[tokio::test]
async fn chinese_questions_get_chinese_names() {
    let kb = kb("zh").await;
    let answers = service(&kb, None);
    let r = answers.ask(ask("这是什么动物?", Some("tabby cat")), None).await.unwrap();
    assert_eq!(r.language, Language::Zh);
    assert_eq!(r.candidates[0].label, "tabby cat");
    assert!(r.answer.contains("虎斑猫"), "{}", r.answer);
}

#[tokio::test]
async fn a_follow_up_reuses_the_photo_its_candidates_and_the_turns() {
    let kb = kb("follow").await;
    add(&kb, "default", "red squirrel tree", "squirrel").await;
    let generator = Arc::new(ScriptedGenerator::replying("It is a squirrel."));
    let answers = AskService::new(kb.clone(), Some(generator.clone()), AnswerSettings::default());
    let first = answers.ask(ask("What is this?", Some("grey squirrel tree")), None).await.unwrap();
    assert_eq!(first.candidates[0].label, "squirrel");
    let mut follow = ask("What does it usually eat?", None);
    follow.conversation_id = Some(first.conversation_id.clone());
    let second = answers.ask(follow, None).await.unwrap();
    assert_eq!(second.conversation_id, first.conversation_id);
    assert_eq!(second.image, first.image, "the follow-up is about the same photo");
    assert_eq!(second.candidates, first.candidates);
    let prompt = generator.requests().pop().unwrap().messages;
    assert!(prompt.iter().any(|m| m.role == Role::User && m.content == "What is this?"), "earlier turn in the prompt");
    assert!(prompt.iter().any(|m| m.role == Role::Assistant && m.content.contains("squirrel")));
    let conversation = kb.conversation(&first.conversation_id).await.unwrap();
    assert_eq!(conversation.turns.len(), 2);
}

#[tokio::test]
async fn a_correction_is_learned_at_once() {
    let kb = kb("teach").await;
    let answers = service(&kb, None);
    let first = answers.ask(ask("What is this?", Some("tabby cat")), None).await.unwrap();
    assert_eq!(first.candidates[0].label, "tabby cat");
    let outcome =
        kb.feedback(&first.answer_id, FeedbackInput { correct: Some(false), label: Some("lynx".into()) }).await.unwrap();
    assert_eq!(outcome.status, FeedbackStatus::Learned);
    assert!(outcome.item_id.is_some());
    let again = answers.ask(ask("What is this?", Some("tabby cat")), None).await.unwrap();
    assert_eq!(again.candidates[0].label, "lynx", "{:?}", again.candidates);
    // The same correction twice teaches nothing new, and is still accepted.
    let twice = kb.feedback(&first.answer_id, FeedbackInput { correct: None, label: Some("lynx".into()) }).await.unwrap();
    assert_eq!(twice.item_id, None);
    let e = kb.feedback(&first.answer_id, FeedbackInput::default()).await.unwrap_err();
    assert_eq!(e.code, "empty_feedback");
    let e = kb.feedback("nope", FeedbackInput { correct: Some(true), label: None }).await.unwrap_err();
    assert_eq!(e.code, "unknown_answer");
}

#[tokio::test]
async fn query_mode_answers_from_the_collection_only() {
    let kb = kb("query").await;
    kb.create_collection("empty", "").await.unwrap();
    let answers = service(&kb, Some(ScriptedGenerator::replying("Paris.")));
    let mut req = AskRequest::new("empty", Some("What is the capital of France?".into()), None);
    req.mode = Some(Mode::Query);
    let r = answers.ask(req, None).await.unwrap();
    assert_eq!(r.answer_source, AnswerSource::NoEvidence);
    assert!(r.answer.contains("nothing"), "{}", r.answer);
    // Query mode leaves the built-in classifier (model knowledge) out.
    add(&kb, "empty", "grey cat sofa", "cat").await;
    let mut req = AskRequest::new("empty", None, Some(photo("tabby cat")));
    req.mode = Some(Mode::Query);
    let r = answers.ask(req, None).await.unwrap();
    assert!(r.candidates.iter().all(|c| c.label == "cat"), "{:?}", r.candidates);
}

#[tokio::test]
async fn streaming_sends_the_evidence_then_the_tokens() {
    let kb = kb("events").await;
    add(&kb, "default", "grey cat sofa", "cat").await;
    let answers = service(&kb, Some(ScriptedGenerator::replying("This is a cat.")));
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let r = answers.ask(ask("What is it?", Some("grey cat")), Some(tx)).await.unwrap();
    let mut events = Vec::new();
    while let Some(e) = rx.recv().await {
        events.push(e);
    }
    let AskEvent::Evidence(evidence) = &events[0] else { panic!("evidence first") };
    assert_eq!(evidence.answer_id, r.answer_id);
    let text: String =
        events[1..].iter().map(|e| if let AskEvent::Token(t) = e { t.as_str() } else { panic!("tokens after") }).collect();
    assert_eq!(text, "This is a cat.");
}

#[tokio::test]
async fn bad_questions_get_stable_codes_and_store_nothing() {
    let kb = kb("errors").await;
    let answers = service(&kb, None);
    let e = answers.ask(AskRequest::new("nope", Some("hi".into()), None), None).await.unwrap_err();
    assert_eq!(e.code, "unknown_collection");
    let mut req = ask("hi", None);
    req.conversation_id = Some("missing".into());
    assert_eq!(answers.ask(req, None).await.unwrap_err().code, "unknown_conversation");
    let e = answers.ask(AskRequest::new("default", None, Some(b"GIF89a not really".to_vec())), None).await.unwrap_err();
    assert_eq!(e.code, "not_an_image");
    let e = kb
        .add_item("default", ItemInput { text: Some("x".into()), metadata: Some(serde_json::json!([1])), ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(e.code, "invalid_metadata");
    assert_eq!(kb.list_conversations().await.unwrap().len(), 0);
    assert_eq!(kb.list_items("default", None, 10, 0).await.unwrap().1, 0);
}

#[tokio::test]
async fn search_finds_by_text_and_by_photo_and_filters_by_label() {
    let kb = kb("search").await;
    add(&kb, "default", "grey cat sofa", "cat").await;
    add(&kb, "default", "small dog park", "dog").await;
    let text = kb
        .search(pyxa_engine::kb::SearchQuery {
            collection: "default".into(),
            text: Some("dog".into()),
            image: None,
            top_k: 1,
            filter: Default::default(),
        })
        .await
        .unwrap();
    assert_eq!(text.hits[0].label.as_deref(), Some("dog"));
    let filtered = kb
        .search(pyxa_engine::kb::SearchQuery {
            collection: "default".into(),
            text: None,
            image: Some(photo("dog")),
            top_k: 5,
            filter: pyxa_core::PayloadFilter { label: Some("cat".into()), ..Default::default() },
        })
        .await
        .unwrap();
    assert!(filtered.hits.iter().all(|h| h.label.as_deref() == Some("cat")) && !filtered.hits.is_empty());
}

#[tokio::test]
async fn after_a_bundle_change_only_reembedded_items_are_searched_and_reindex_brings_all_back() {
    let before = kb("reindex").await;
    add(&before, "default", "grey cat sofa", "cat").await;
    add(&before, "default", "small dog park", "dog").await;
    before
        .add_item("default", ItemInput { text: Some("the office cat is called Mochi".into()), ..Default::default() })
        .await
        .unwrap();
    // The same stores, opened with an encoder of another embedding space.
    let after = KnowledgeBase::new(
        Arc::new(FakeEncoder::new(CLASSES).in_space("fake@2")),
        before.vectors.clone(),
        before.meta.clone(),
        before.images.clone(),
    );
    after.open().await.unwrap();
    assert_eq!(after.outdated_items(None).await.unwrap(), 3);
    let query = || pyxa_engine::kb::SearchQuery {
        collection: "default".into(),
        text: Some("cat".into()),
        image: None,
        top_k: 5,
        filter: Default::default(),
    };
    assert!(after.search(query()).await.unwrap().hits.is_empty(), "vectors of the old space are never compared");
    let mut seen = Vec::new();
    let report = after.reindex(None, |done, total| seen.push((done, total))).await.unwrap();
    assert_eq!((report.reembedded, report.failed), (3, 0));
    assert_eq!(seen.last(), Some(&(3, 3)));
    assert_eq!(after.outdated_items(None).await.unwrap(), 0);
    let hits = after.search(query()).await.unwrap().hits;
    assert_eq!(hits.len(), 3);
    assert_eq!(hits[0].label.as_deref(), Some("cat"));
    // Nothing left to do: a second run is a no-op.
    assert_eq!(after.reindex(Some("default"), |_, _| {}).await.unwrap().reembedded, 0);
}

const FINE_CLASSES: &[(&str, &str)] = &[
    ("admiral", "红纹蛱蝶"),
    ("ringlet", "小环蝶"),
    ("monarch", "君主斑蝶"),
    ("lycaenid", "灰蝶"),
    ("tiger cat", "虎猫"),
    ("Egyptian cat", "埃及猫"),
    ("tabby", "虎斑猫"),
    ("espresso", "浓缩咖啡"),
];

/// Fine-grained classes that roll up (WordNet's basic level), with the split probabilities the
/// default bundle gives a butterfly photo and scikit-image's chelsea.png.
async fn fine_kb(tag: &str) -> KnowledgeBase {
    let butterfly = ("butterfly", "蝴蝶");
    let cat = ("cat", "猫");
    let encoder = FakeEncoder::new(FINE_CLASSES)
        .with_rollups(&[
            ("admiral", butterfly.0, butterfly.1),
            ("ringlet", butterfly.0, butterfly.1),
            ("monarch", butterfly.0, butterfly.1),
            ("lycaenid", butterfly.0, butterfly.1),
            ("tiger cat", cat.0, cat.1),
            ("Egyptian cat", cat.0, cat.1),
            ("tabby", cat.0, cat.1),
        ])
        .with_class_probs("butterfly on a flower", &[("admiral", 0.29), ("ringlet", 0.28), ("monarch", 0.19), ("lycaenid", 0.05)])
        .with_class_probs("chelsea", &[("tiger cat", 0.40), ("Egyptian cat", 0.35), ("tabby", 0.17)]);
    let kb = KnowledgeBase::new(
        Arc::new(encoder),
        Arc::new(MemoryVectorStore::default()),
        sqlite(tag).await,
        Arc::new(FakeImageStore::default()),
    );
    kb.open().await.expect("open");
    kb
}

#[tokio::test]
async fn fine_classes_roll_up_to_the_name_people_use() {
    let kb = fine_kb("rollup").await;
    let answers = service(&kb, None);
    let r = answers.ask(ask("What is this?", Some("butterfly on a flower")), None).await.unwrap();
    let top = &r.candidates[0];
    assert_eq!(top.label, "butterfly", "{:?}", r.candidates);
    assert!((top.probability - 0.81).abs() < 0.01, "{}", top.probability);
    assert_eq!(top.detail.as_ref().map(|d| d.label.as_str()), Some("admiral"));
    assert!(r.candidates.iter().any(|c| c.label == "ringlet"), "the finer classes stay listed");
    assert!(r.confident);
    assert_eq!(r.answer, "It is a butterfly (81%), most likely an admiral (29%).");

    let r = answers.ask(ask("这是什么?", Some("butterfly on a flower")), None).await.unwrap();
    assert_eq!(r.answer, "这是蝴蝶（81%），最可能是红纹蛱蝶（29%）。");

    let r = answers.ask(ask("What animal is this?", Some("chelsea")), None).await.unwrap();
    assert_eq!(r.candidates[0].label, "cat", "{:?}", r.candidates);
    assert!((r.candidates[0].probability - 0.92).abs() < 0.01, "{}", r.candidates[0].probability);
    assert!(r.answer.starts_with("It is a cat (92%), most likely a tiger cat (40%)."), "{}", r.answer);
    let r = answers.ask(ask("这是什么动物?", Some("chelsea")), None).await.unwrap();
    assert!(r.answer.starts_with("这是猫（92%）"), "{}", r.answer);
}

#[tokio::test]
async fn an_llm_answer_naming_the_roll_up_is_accepted() {
    let kb = fine_kb("rollup-llm").await;
    let answers = service(&kb, Some(ScriptedGenerator::replying("这是一只猫。")));
    let r = answers.ask(ask("这是什么动物?", Some("chelsea")), None).await.unwrap();
    assert_eq!((r.answer_source, r.answer.as_str()), (AnswerSource::Llm, "这是一只猫。"));
    let answers = service(&kb, Some(ScriptedGenerator::replying("It is a butterfly, most likely an admiral.")));
    let r = answers.ask(ask("What is this?", Some("butterfly on a flower")), None).await.unwrap();
    assert_eq!(r.answer_source, AnswerSource::Llm, "{}", r.answer);
    let answers = service(&kb, Some(ScriptedGenerator::replying("It is a ringlet.")));
    let r = answers.ask(ask("What is this?", Some("butterfly on a flower")), None).await.unwrap();
    assert_eq!(r.answer_source, AnswerSource::Template, "names a lesser candidate: {}", r.answer);
}

#[tokio::test]
async fn a_user_label_named_like_the_roll_up_merges_with_it() {
    let kb = fine_kb("rollup-label").await;
    add(&kb, "default", "chelsea", "cat").await;
    let r = service(&kb, None).ask(ask("What is it?", Some("chelsea")), None).await.unwrap();
    assert_eq!(r.candidates[0].label, "cat", "{:?}", r.candidates);
    assert_eq!(r.candidates.iter().filter(|c| c.label.eq_ignore_ascii_case("cat")).count(), 1, "{:?}", r.candidates);
    assert!(r.candidates[0].probability > 0.98, "{:?}", r.candidates);
    assert_eq!(r.candidates[0].detail.as_ref().map(|d| d.label.as_str()), Some("tiger cat"));
}

#[tokio::test]
async fn words_printed_on_a_photo_are_read_found_and_given_as_evidence() {
    let kb = kb("ocr").await.with_text_reader(Arc::new(pyxa_engine::testing::FakeTextReader));
    let boxed = photo("cookie box says Crisp Almond Cookies");
    let item = kb
        .add_item("default", ItemInput { image: Some(boxed.clone()), label: Some("cookies".into()), ..Default::default() })
        .await
        .unwrap();
    // Read in the background: acknowledged first, the text joins the item afterwards.
    assert_eq!(item.ocr_text, None);
    kb.settle_text_reading().await;
    let item = kb.get_item("default", &item.id).await.unwrap();
    assert_eq!(item.ocr_text.as_deref(), Some("Crisp Almond Cookies"));
    assert_eq!(item.state, pyxa_core::IndexState::Indexed);
    assert_eq!(item.kind, pyxa_core::ItemKind::Image, "the kind follows what the user sent");
    add(&kb, "default", "grey cat sofa", "cat").await;
    // Found by the printed words alone.
    let hits = kb
        .search(pyxa_engine::kb::SearchQuery {
            collection: "default".into(),
            text: Some("almond".into()),
            image: None,
            top_k: 1,
            filter: Default::default(),
        })
        .await
        .unwrap()
        .hits;
    assert_eq!(hits[0].item_id, item.id);
    assert_eq!(hits[0].ocr_text.as_deref(), Some("Crisp Almond Cookies"));
    // Asked about its text: the words reach the prompt and the response, and the citation of
    // the stored photo carries them.
    let generator = Arc::new(ScriptedGenerator::replying("It says Crisp Almond Cookies."));
    let answers = AskService::new(kb.clone(), Some(generator.clone()), AnswerSettings::default());
    let r = answers.ask(ask("What does the box say?", Some("cookie box says Crisp Almond Cookies")), None).await.unwrap();
    assert_eq!(r.ocr_text.as_deref(), Some("Crisp Almond Cookies"));
    assert_eq!(r.citations[0].ocr_text.as_deref(), Some("Crisp Almond Cookies"));
    let prompt = generator.requests().pop().unwrap().messages.pop().unwrap().content;
    assert!(prompt.contains("Text printed on the uploaded photo: \"Crisp Almond Cookies\""), "{prompt}");
    // A question that is not about text does not pay for reading the photo.
    let r = answers.ask(ask("What is this?", Some("cookie box says Crisp Almond Cookies")), None).await.unwrap();
    assert_eq!(r.ocr_text, None);
}

#[tokio::test]
async fn questions_about_the_notes_are_answered_from_them_in_both_languages() {
    let kb = kb("notes").await;
    for note in ["Library hours: the library closes at 6 pm", "借书期限三周", "The espresso machine must be descaled monthly"]
    {
        kb.add_item("default", ItemInput { text: Some(note.into()), ..Default::default() }).await.unwrap();
    }
    // The LLM's own words, when usable, with the passage they draw on cited.
    let answers = service(&kb, Some(ScriptedGenerator::replying("It closes at 6 pm.")));
    let r = answers.ask(ask("When does the library close?", None), None).await.unwrap();
    assert_eq!(r.answer_source, AnswerSource::Llm, "{}", r.answer);
    let n = r.citations.iter().find(|c| c.item_id == r.citations[0].item_id).unwrap().n;
    assert_eq!(r.answer, format!("It closes at 6 pm. [{n}]"));
    // A loop (what the small model writes in Chinese) gives way to the passage itself.
    let answers = service(&kb, Some(ScriptedGenerator::replying("借书。借书。借书。借书。")));
    let r = answers.ask(ask("借书可以借多久？", None), None).await.unwrap();
    assert_eq!(r.answer_source, AnswerSource::Passage, "{}", r.answer);
    assert!(
        r.answer.starts_with("我不确定知识库能回答这个问题。最接近的段落[") && r.answer.ends_with("借书期限三周"),
        "{}",
        r.answer
    );
    // Citation marks alone, or a lead-in and marks, are no answer either.
    for marks_only in ["[1]", "根据上下文，[1]。"] {
        let answers = service(&kb, Some(ScriptedGenerator::replying(marks_only)));
        let r = answers.ask(ask("借书可以借多久？", None), None).await.unwrap();
        assert_eq!(r.answer_source, AnswerSource::Passage, "{marks_only} -> {}", r.answer);
    }
    // Without an LLM too.
    let r = service(&kb, None).ask(ask("When does the library close?", None), None).await.unwrap();
    assert!(r.answer.contains("closes at 6 pm"), "{}", r.answer);
    // Query mode does not pass the model's own knowledge off as the knowledge base's.
    let answers = service(&kb, Some(ScriptedGenerator::replying("Paris is the capital of France.")));
    let mut req = ask("What is the capital of France?", None);
    req.mode = Some(Mode::Query);
    let r = answers.ask(req, None).await.unwrap();
    assert_ne!(r.answer_source, AnswerSource::Llm, "{}", r.answer);
    // The model finding no answer in the passages it was given is an abstention, not a quote.
    for refusal in ["The context does not mention when the library opens on Sundays.", "上下文没有提到。"] {
        let answers = service(&kb, Some(ScriptedGenerator::replying(refusal)));
        let mut req = ask("When does the library open on Sundays?", None);
        req.mode = Some(Mode::Query);
        let r = answers.ask(req, None).await.unwrap();
        assert_eq!(r.answer_source, AnswerSource::NoEvidence, "{refusal} -> {}", r.answer);
        // Passages were found and are shown: the answer does not claim that nothing was.
        assert!(!r.citations.is_empty(), "{refusal}: the passages searched are shown");
        assert!(r.answer.starts_with("What I found in the knowledge base does not answer this"), "{refusal} -> {}", r.answer);
    }
    // Chat mode may answer from what the model knows.
    let r = answers.ask(ask("What is the capital of France?", None), None).await.unwrap();
    assert_eq!(r.answer, "Paris is the capital of France.");
}

#[tokio::test]
async fn text_unlike_the_question_is_not_cited() {
    let kb = kb("unlike").await;
    for note in ["Library hours: the library closes at 6 pm", "The espresso machine must be descaled monthly"] {
        kb.add_item("default", ItemInput { text: Some(note.into()), ..Default::default() }).await.unwrap();
    }
    // A photo in a collection of notes: nothing there is like it.
    let r = service(&kb, None).ask(ask("What is this?", Some("grey cat sofa")), None).await.unwrap();
    assert!(r.citations.is_empty(), "{:?}", r.citations);
    // A question cites the note like it, not the other one.
    let r = service(&kb, None).ask(ask("When does the library close?", None), None).await.unwrap();
    let cited: Vec<&str> = r.citations.iter().filter_map(|c| c.snippet.as_deref()).collect();
    assert_eq!(cited, ["Library hours: the library closes at 6 pm"], "{r:?}");
}

#[tokio::test]
async fn a_follow_up_question_about_the_photo_is_answered_not_re_identified() {
    let kb = kb("followq").await;
    let generator = Arc::new(ScriptedGenerator::new(|req| {
        let last = &req.messages.last().unwrap().content;
        if last.contains("eat") {
            "Cats like to eat fish and meat.".into()
        } else {
            "It is a tabby cat.".into()
        }
    }));
    let answers = AskService::new(kb.clone(), Some(generator.clone()), AnswerSettings::default());
    let first = answers.ask(ask("What is this?", Some("tabby cat")), None).await.unwrap();
    let mut follow = ask("What does it like to eat?", None);
    follow.conversation_id = Some(first.conversation_id.clone());
    let r = answers.ask(follow, None).await.unwrap();
    assert_eq!((r.answer.as_str(), r.answer_source), ("Cats like to eat fish and meat.", AnswerSource::Llm));
    let prompt = generator.requests().pop().unwrap().messages.pop().unwrap().content;
    assert!(prompt.contains("The photo shows: tabby cat."), "{prompt}");
    // When the model's text is unusable, the answer says what it knows and what it does not.
    let looping = service(&kb, Some(ScriptedGenerator::replying("Fish. Fish. Fish.")));
    let mut follow = ask("What does it like to eat?", None);
    follow.conversation_id = Some(first.conversation_id.clone());
    let r = looping.ask(follow, None).await.unwrap();
    assert!(
        r.answer.starts_with("I found nothing about that in the knowledge base. The photo shows a tabby cat"),
        "{}",
        r.answer
    );
    // A colour is not guessed: the model only knows the photo's name.
    let guessing = service(&kb, Some(ScriptedGenerator::replying("The cat is orange.")));
    for (question, start) in
        [("What colour is it?", "I cannot tell colours from a photo"), ("它是什么颜色的？", "我看不出照片的颜色")]
    {
        let mut follow = ask(question, None);
        follow.conversation_id = Some(first.conversation_id.clone());
        let r = guessing.ask(follow, None).await.unwrap();
        assert!(r.answer.starts_with(start) && r.answer_source == AnswerSource::Template, "{question} -> {}", r.answer);
    }
}

use pyxa_core::{ChatMessage, GenerationRequest, Generator};
use pyxa_llm::{LocalConfig, LocalGenerator};
const SYSTEM: &str =
    "You are a helpful assistant. Answer the question using only the context. Be brief.";
const CONTEXT: &str = "Context: Image analysis of the uploaded photo: top labels = tiger cat (0.39), Egyptian cat (0.36), tabby cat (0.17). Zero-shot: 'a cat' 1.00, 'a dog' 0.00.\n\nQuestion: This is an animal, what is it?";
#[tokio::main(flavor = "current_thread")]
async fn main() {
    let g = LocalGenerator::load(
        std::env::var("PYXA_TEST_GGUF").unwrap(),
        LocalConfig::default(),
    )
    .unwrap();
    let m = || vec![ChatMessage::system(SYSTEM), ChatMessage::user(CONTEXT)];
    let c = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    println!(
        "cold      {:?}",
        g.score(m(), c(&["a cat", "a rocket"])).await.unwrap()
    );
    println!(
        "warm      {:?}",
        g.score(m(), c(&["a cat", "a rocket"])).await.unwrap()
    );
    println!(
        "warm rev  {:?}",
        g.score(m(), c(&["a rocket", "a cat"])).await.unwrap()
    );
    let _ = g
        .generate(
            GenerationRequest {
                messages: vec![ChatMessage::user("hello there")],
                max_tokens: 3,
                temperature: 0.0,
            },
            None,
        )
        .await
        .unwrap();
    println!(
        "recold    {:?}",
        g.score(m(), c(&["a cat", "a rocket"])).await.unwrap()
    );
    println!("single    {:?}", g.score(m(), c(&["a cat"])).await.unwrap());
    let _ = g
        .generate(
            GenerationRequest {
                messages: m(),
                max_tokens: 8,
                temperature: 0.0,
            },
            None,
        )
        .await
        .unwrap();
    println!(
        "after gen {:?}",
        g.score(m(), c(&["a cat", "a rocket"])).await.unwrap()
    );
}

// Hugging Face's JS client against a node's TEI routes, as its users call it with an endpoint URL:
// node check.mjs <embedding node URL> <classifier node URL>; prints what the client returned.
import { InferenceClient } from "@huggingface/inference";

const [embedder, classifier] = process.argv.slice(2);
const client = new InferenceClient();
const similarity = await client.sentenceSimilarity({
  endpointUrl: `${embedder}/similarity`,
  inputs: { source_sentence: "hello world", sentences: ["hello world", "the cat sat on the mat"] },
});
const classification = await client.textClassification({
  endpointUrl: `${classifier}/predict`,
  inputs: "the dog is good",
});
console.log(JSON.stringify({ similarity, classification }));

import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ValidationError } from "../errors.js";
import { type LocalBundleInput, llamaFactoryTemplate, localBundleFiles } from "./local-bundle.js";

const INPUT: LocalBundleInput = {
  datasetName: "support: billing",
  baseModel: "Qwen/Qwen2.5-7B-Instruct",
  epochs: 3,
  trainExamples: 90,
  validationExamples: 10,
  sequenceLength: 2048,
};

function files(input: LocalBundleInput = INPUT) {
  return Object.fromEntries(localBundleFiles(input).map((file) => [file.path, file.content]));
}

describe("localBundleFiles", () => {
  it("writes an Axolotl config that trains a LoRA on the messages files, evaluating on the validation one", () => {
    const config = parse(files()["axolotl.yaml"] ?? "");
    expect(config).toMatchObject({
      base_model: "Qwen/Qwen2.5-7B-Instruct",
      chat_template: "tokenizer_default",
      adapter: "lora",
      sequence_len: 2048,
      num_epochs: 3,
      output_dir: "./outputs/axolotl",
    });
    const dataset = { type: "chat_template", field_messages: "messages", roles_to_train: ["assistant"] };
    expect(config.datasets).toEqual([expect.objectContaining({ path: "data/train.jsonl", ...dataset })]);
    expect(config.test_datasets).toEqual([
      expect.objectContaining({ path: "data/validation.jsonl", ...dataset }),
    ]);
  });

  it("writes a LLaMA-Factory config and the dataset registry it reads OpenAI-style messages with", () => {
    const bundle = files();
    expect(parse(bundle["llamafactory.yaml"] ?? "")).toMatchObject({
      model_name_or_path: "Qwen/Qwen2.5-7B-Instruct",
      stage: "sft",
      finetuning_type: "lora",
      template: "qwen",
      dataset_dir: "data",
      dataset: "fineflow_train",
      eval_dataset: "fineflow_validation",
      cutoff_len: 2048,
      num_train_epochs: 3,
    });
    const registry = JSON.parse(bundle["data/dataset_info.json"] ?? "");
    expect(Object.keys(registry)).toEqual(["fineflow_train", "fineflow_validation"]);
    expect(registry.fineflow_train).toEqual({
      file_name: "train.jsonl",
      formatting: "sharegpt",
      columns: { messages: "messages" },
      tags: {
        role_tag: "role",
        content_tag: "content",
        user_tag: "user",
        assistant_tag: "assistant",
        system_tag: "system",
      },
    });
    expect(bundle["README.md"]).toContain("90 training and 10 validation examples");
    expect(bundle["README.md"]).toContain("llamafactory-cli train llamafactory.yaml");
  });

  it("leaves evaluation out when there is no validation file", () => {
    const bundle = files({ ...INPUT, validationExamples: 0 });
    const axolotl = parse(bundle["axolotl.yaml"] ?? "");
    expect(axolotl.test_datasets).toBeUndefined();
    expect(axolotl.val_set_size).toBe(0);
    expect(parse(bundle["llamafactory.yaml"] ?? "").eval_dataset).toBeUndefined();
    expect(Object.keys(JSON.parse(bundle["data/dataset_info.json"] ?? ""))).toEqual(["fineflow_train"]);
  });

  it("keeps names YAML would misread as they are", () => {
    const config = parse(
      files({ ...INPUT, baseModel: "./models/qwen-yes:no", datasetName: "a\nbase_model: other" })[
        "axolotl.yaml"
      ] ?? "",
    );
    expect(config.base_model).toBe("./models/qwen-yes:no");
  });

  it.each([
    ["meta-llama/Llama-3.1-8B-Instruct", "llama3"],
    ["Qwen/Qwen3-8B", "qwen3"],
    ["Qwen/Qwen2.5-7B-Instruct", "qwen"],
    ["mistralai/Mistral-7B-Instruct-v0.3", "mistral"],
    ["google/gemma-3-4b-it", "gemma3"],
    ["google/gemma-2-9b-it", "gemma"],
    ["microsoft/phi-4", "phi4"],
    ["microsoft/Phi-3-mini-4k-instruct", "phi"],
  ])("knows the chat template of %s: %s", (model, template) => {
    expect(llamaFactoryTemplate(model)).toBe(template);
  });

  it("asks for the template of a family it does not know, and takes the one given", () => {
    const unknown = { ...INPUT, baseModel: "tiiuae/falcon-7b-instruct" };
    expect(() => localBundleFiles(unknown)).toThrow(ValidationError);
    expect(() => localBundleFiles(unknown)).toThrow(/template.*falcon-7b-instruct/);
    expect(parse(files({ ...unknown, template: "falcon" })["llamafactory.yaml"] ?? "").template).toBe(
      "falcon",
    );
  });

  it("refuses a model name with spaces, naming the field", () => {
    expect(() => localBundleFiles({ ...INPUT, baseModel: "my model" })).toThrow(/baseModel/);
  });
});

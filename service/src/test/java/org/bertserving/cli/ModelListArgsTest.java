package org.bertserving.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.bertserving.cluster.NodeModel;
import org.bertserving.cluster.ServingSettings;
import org.bertserving.engine.EngineSettings;
import org.bertserving.engine.PoolingStrategy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Several models on one node: the flags' lists, served names, and the config file's entries. */
class ModelListArgsTest {
  @TempDir Path dir;

  static ServingSettings settings(String... args) {
    return ServingSettings.create(StartArgs.parse(args).config());
  }

  static List<String> names(ServingSettings s) {
    return s.models().stream().map(EngineSettings::modelName).toList();
  }

  static void refused(String fragment, String... args) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> settings(args));
    assertTrue(e.getMessage().contains(fragment), e.getMessage());
  }

  @Test
  void flagsListModelsAndServedNamesRenameThem() {
    ServingSettings named =
        settings("-model", "all-minilm-l6-v2, e5-small-v2", "-max_seq_len", "64");
    assertEquals(List.of("all-minilm-l6-v2", "e5-small-v2"), names(named));
    assertEquals(named.models().get(0), named.engine(), "engine() is the first model");
    named.models().forEach(m -> assertEquals(64, m.maxSeqLen(), "the flags hold for each"));

    ServingSettings folders =
        settings("-model_dir", "/m/a,/m/b", "--served-model-name", "first,second");
    assertEquals(List.of("first", "second"), names(folders));
    assertEquals(Path.of("/m/b"), folders.models().get(1).modelDir());
    assertEquals(List.of("a", "b"), names(settings("-model_dir", "/m/a,/m/b")), "folder names");
    assertEquals(
        List.of("mini"),
        names(settings("-model", "all-minilm-l6-v2", "-served_model_name", "mini")));
    assertEquals(1, settings().models().size(), "no flag: the default model alone");

    refused(
        "-served_model_name x: 1 name(s) for 2 model(s); give one name for each model listed by"
            + " -model_dir",
        "-model_dir",
        "/m/a,/m/b",
        "-served_model_name",
        "x");
    refused("two models of this node are both named 'a'", "-model_dir", "/m/a,/n/a");
    refused("both named 'same'", "-model_dir", "/m/a,/m/b", "-served_model_name", "same,same");
    // one folder twice is two models only under two names
    assertEquals(
        List.of("q", "d"), names(settings("-model_dir", "/m/a,/m/a", "-served_model_name", "q,d")));
    refused("both named 'a' (the 1st and the 2nd listed)", "-model_dir", "/m/a,/m/a");
    refused(
        "-model e5-small-v2: expected no -model_dir",
        "-model",
        "e5-small-v2",
        "-model_dir",
        "/m/a");
  }

  @Test
  void aConfigFileListsModelsEachOverTheEngineBlock() throws Exception {
    Path conf = dir.resolve("models.conf");
    Files.writeString(
        conf,
        String.join(
            "\n",
            "bert-serving.engine { max-seq-len = 40, prompt = \"p: \" }",
            "bert-serving.workers.num-worker = 3",
            "bert-serving.models = [",
            "  { model = \"all-minilm-l6-v2\" }",
            "  { name = \"query\", model_dir = \"/m/bge\", pooling_strategy = CLS_TOKEN,",
            "    max_seq_len = 128, normalize = on, prompt = \"query: \", num_worker = 2 }",
            "  { model_dir = \"/m/bge\", served_model_name = \"doc\", max-seq-len = NONE }",
            "]"));
    ServingSettings s = settings("-config", conf.toString(), "-mask_cls_sep");
    assertEquals(List.of("all-minilm-l6-v2", "query", "doc"), names(s));
    List<NodeModel> models = s.nodeModels();
    EngineSettings mini = models.get(0).engine(), query = models.get(1).engine();
    assertEquals(40, mini.maxSeqLen(), "the engine block's");
    assertEquals("p: ", mini.prompt());
    assertEquals(PoolingStrategy.REDUCE_MEAN, mini.poolingStrategy(), "the model's own");
    assertEquals(3, models.get(0).numWorker(), "workers.num-worker");
    assertTrue(mini.maskClsSep() && query.maskClsSep(), "a flag holds for every entry");
    assertEquals(PoolingStrategy.FIRST_TOKEN, query.poolingStrategy());
    assertEquals(128, query.maxSeqLen());
    assertTrue(query.normalize());
    assertEquals("query: ", query.prompt());
    assertEquals(Path.of("/m/bge"), query.modelDir());
    assertEquals(2, models.get(1).numWorker());
    assertEquals(null, models.get(2).engine().maxSeqLen(), "NONE");

    assertTrue(
        assertThrows(
                IllegalArgumentException.class,
                () -> settings("-config", conf.toString(), "-model", "e5-small-v2"))
            .getMessage()
            .contains("bert-serving.models lists the models of this node: leave -model"));
    for (String[] bad :
        new String[][] {
          {
            "{ model_dir = \"/m/a\", pooling = CLS_TOKEN }",
            "bert-serving.models[0]: unknown key" + " 'pooling'"
          },
          {"{ model_dir = \"/m/a\", gpu_memory_fraction = 0.2 }", "is the node's"},
          {"{ name = x }", "bert-serving.models[0]: give exactly one of model and model_dir"},
          {"{ model = e5-small-v2, model_dir = \"/m/a\" }", "give exactly one of model and"},
          {"{ model_dir = \"/m/a\", max_seq_len = 2 }", "bert-serving.models[0]: -max_seq_len 2"},
          {"{ model_dir = \"/m/a\" }, { model_dir = \"/n/a\" }", "both named 'a'"}
        }) {
      Files.writeString(conf, "bert-serving.models = [ " + bad[0] + " ]");
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> settings("-config", conf.toString()));
      assertTrue(e.getMessage().contains(bad[1]), bad[0] + ": " + e.getMessage());
    }
  }
}

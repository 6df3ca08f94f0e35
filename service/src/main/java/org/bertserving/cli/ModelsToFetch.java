package org.bertserving.cli;

import java.util.List;
import org.bertserving.cluster.ServingSettings;
import org.bertserving.engine.EngineSettings;
import org.bertserving.engine.NamedModel;

/**
 * For {@code ops/bert-serving-start}: prints, a line each, the Maven artifacts of the named models
 * a node started with these flags would serve and this machine has neither on the class path nor in
 * its local repository; the script fetches them before it starts the node. The models come from
 * where the node takes them: {@code -model}, {@code BERT_SERVING_MODEL}, and {@code -config}'s
 * {@code bert-serving.engine.model} or {@code bert-serving.models}. Flags or a file the node would
 * refuse print nothing here: the node itself then says what is wrong.
 */
public final class ModelsToFetch {
  private ModelsToFetch() {}

  /**
   * {@code args}: the node's flags. First {@code --strict} (the container build): flags it refuses
   * end this with exit code 2 and their cause on stderr, instead of printing nothing.
   */
  public static void main(String[] args) {
    boolean strict = args.length > 0 && args[0].equals("--strict");
    List<String> names;
    try {
      names = named(strict ? java.util.Arrays.copyOfRange(args, 1, args.length) : args);
    } catch (RuntimeException e) {
      if (strict) {
        System.err.println("bert-serving: " + e.getMessage());
        System.exit(2);
      }
      return;
    }
    NamedModel.missing(String.join(",", names)).forEach(System.out::println);
  }

  /**
   * The named models (not folders) a node started with {@code args} loads, in its order: none on a
   * frontend-only node, which loads no model.
   */
  static List<String> named(String... args) {
    ServingSettings settings = ServingSettings.create(StartArgs.parse(args).config());
    if (!settings.isWorker()) {
      return List.of();
    }
    return settings.models().stream()
        .map(EngineSettings::model)
        .filter(m -> m != null && !m.isBlank())
        .toList();
  }
}

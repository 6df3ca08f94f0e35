package org.bertserving.cluster;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import com.typesafe.config.ConfigFactory;

/** A testkit with the nodes' own Akka settings (CBOR for every wire message), local provider. */
final class LocalKit {
  private LocalKit() {}

  /**
   * @param extra more settings, HOCON, above the nodes' ones
   */
  static ActorTestKit create(String extra) {
    return ActorTestKit.create(
        ConfigFactory.parseString("akka.actor.provider = local\n" + extra)
            .withFallback(ConfigFactory.parseResources("bert-serving-akka.conf"))
            .withFallback(ConfigFactory.load()));
  }
}

package org.bertserving.server;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;

/**
 * A node's whole configuration: the given config (flags, a {@code -config} file), then the Akka
 * settings every node needs ({@code bert-serving-akka.conf}), then the reference.conf of every
 * library. Akka's settings of this service cannot sit in its reference.conf: merged with Akka's own
 * reference.conf, the class path order would decide which {@code akka.actor.provider} wins.
 */
public final class NodeConfig {
  static final String AKKA = "bert-serving-akka.conf";

  private NodeConfig() {}

  /** Resolves {@code config} over the node's Akka settings and the libraries' references. */
  public static Config load(Config config) {
    return ConfigFactory.load(
        config.withFallback(ConfigFactory.parseResources(NodeConfig.class.getClassLoader(), AKKA)));
  }
}

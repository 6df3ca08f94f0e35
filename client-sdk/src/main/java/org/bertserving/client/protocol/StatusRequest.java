package org.bertserving.client.protocol;

/** Asks the server for its {@link StatusReply}. */
public enum StatusRequest implements WireMessage {
  INSTANCE
}

package org.bertserving.client.protocol;

/**
 * Marker of everything that crosses nodes or reaches clients: the service binds it to Jackson (CBOR
 * between nodes, JSON over HTTP), so Java serialization stays off.
 */
public interface WireMessage {}

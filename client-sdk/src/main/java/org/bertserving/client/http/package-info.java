/**
 * The JSON bodies of the HTTP routes the SDK calls, as records with Jackson annotations: the server
 * reads and writes the same records, so the two cannot drift apart. Requests are written without
 * the fields left {@code null}; answers are read leniently (unknown fields are skipped), so that a
 * newer server never breaks an older client.
 */
package org.bertserving.client.http;

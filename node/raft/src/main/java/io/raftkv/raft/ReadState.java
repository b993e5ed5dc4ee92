package io.raftkv.raft;

/**
 * A linearizable read released by ReadIndex (thesis §6.4). The application serves the read
 * identified by {@code context} once its applied index is at least {@code index}.
 *
 * @param index   commit index confirmed by a quorum heartbeat round
 * @param context the opaque request identifier passed to {@link RaftNode#readIndex(byte[])}
 */
public record ReadState(long index, byte[] context) {
}

package io.raftkv.server.transport;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.UnsafeByteOperations;
import io.raftkv.raft.Message;
import io.raftkv.raft.Snapshot;
import io.raftkv.server.api.peer.Ack;
import io.raftkv.server.api.peer.MessageBatch;
import io.raftkv.server.api.peer.PeerGrpc;
import io.raftkv.server.api.peer.RaftMessage;
import io.raftkv.server.api.peer.SnapshotAck;
import io.raftkv.server.api.peer.SnapshotChunk;
import io.raftkv.server.api.peer.SnapshotHeader;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.Http2Settings;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientOptions;
import io.vertx.grpc.client.GrpcClientRequest;
import io.vertx.grpc.client.GrpcClientResponse;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.vertx.grpc.common.GrpcMessage;
import io.vertx.grpc.common.CodecException;
import io.vertx.grpc.common.GrpcMessageDecoder;
import io.vertx.grpc.common.GrpcMessageEncoder;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.ServiceMethod;
import io.vertx.grpc.common.ServiceName;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.GrpcServerOptions;
import io.vertx.grpc.server.GrpcServerRequest;
import org.jboss.logging.Logger;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32C;

/**
 * {@link PeerTransport} over gRPC on Vert.x (HTTP/2 cleartext): a {@link GrpcServer} on this
 * node's peer address receives, and per peer one long-lived {@code Peer.Stream} client stream
 * sends batches of messages. Snapshots go through {@code Peer.SendSnapshot} as a chunk stream on
 * a separate connection, so that a large snapshot does not hold up heartbeats behind it.
 *
 * <p>Per peer: a queue bounded by {@link Options#maxQueuedMessages} and
 * {@link Options#maxQueuedBytes} (a message that does not fit is dropped and counted); a flush
 * that drains the queue into {@code MessageBatch}es of at most {@link Options#maxBatchBytes}
 * while the stream's write queue has room; reconnection after a failure with exponential backoff
 * and jitter from {@link Options#backoffMin} to {@link Options#backoffMax}. Queued messages
 * survive a reconnect; those already written to a stream that fails are lost. At most one
 * snapshot per peer is in flight; another one sent meanwhile is dropped (reported as failed).
 *
 * <p>Dead peers are found without waiting for TCP: a connection attempt that has not produced
 * an HTTP/2 connection after {@link Options#connectTimeout} plus {@link Options#keepAliveTimeout}
 * is abandoned, and an open stream pings its connection so that one from which nothing was read
 * for {@link Options#keepAliveTimeout} is closed. Either way the peer is reported unreachable.
 *
 * <p>Thread-safe; see {@code package-info.java} for which thread does what.
 */
public final class GrpcPeerTransport implements PeerTransport {
    private static final Logger LOG = Logger.getLogger(GrpcPeerTransport.class);
    private static final long CLOSE_TIMEOUT_SECONDS = 10;

    /**
     * Peer.Stream as the client sends it: each batch is serialized once into an array of its exact
     * size, which the frame then wraps. (The default protobuf encoder copies the message through an
     * InputStream into a buffer that grows as it goes: most of the leader's allocation under load,
     * once per follower and batch.)
     */
    private static final ServiceMethod<Ack, MessageBatch> STREAM = ServiceMethod.client(
            ServiceName.create(PeerGrpc.SERVICE_NAME), "Stream",
            batch -> GrpcMessage.message("identity", Buffer.buffer(Unpooled.wrappedBuffer(batch.toByteArray()))),
            GrpcMessageDecoder.decoder(Ack.parser()));

    /**
     * Peer.Stream as the server receives it: a batch is parsed with aliasing, so that the entries'
     * data are views of the received frame rather than copies (RaftMessageCodec copies each entry
     * once, into the Raft entry).
     */
    private static final ServiceMethod<MessageBatch, Ack> STREAM_SERVER = ServiceMethod.server(
            ServiceName.create(PeerGrpc.SERVICE_NAME), "Stream",
            GrpcMessageEncoder.encoder(),
            message -> {
                if (!"identity".equals(message.encoding())) {
                    throw new CodecException("unsupported message encoding " + message.encoding());
                }
                try {
                    return parseBatch(message.payload());
                } catch (java.io.IOException e) {
                    throw new CodecException(e);
                }
            });

    /**
     * Parses a received peer batch. Vert.x copies each HTTP/2 DATA frame into a new unpooled heap
     * buffer and cuts gRPC messages out of it as slices, or out of a new buffer where a message
     * spans frames; nothing writes to those arrays afterwards, so the batch is parsed from the
     * array itself. Any other buffer (pooled, direct or composite: its memory may be reused once
     * released) is copied first.
     */
    @SuppressWarnings("deprecation") // Buffer.getByteBuf: Vert.x 4's way to reach the ByteBuf
    static MessageBatch parseBatch(Buffer payload) throws java.io.IOException {
        ByteBuf data = payload.getByteBuf();
        if (data.hasArray() && !(data.alloc() instanceof PooledByteBufAllocator)) {
            return parseBatch(data.array(), data.arrayOffset() + data.readerIndex(), data.readableBytes());
        }
        byte[] copy = payload.getBytes();
        return parseBatch(copy, 0, copy.length);
    }

    /**
     * Parses a peer batch from {@code length} bytes of {@code payload} at {@code offset}, which
     * the caller hands over: the entries' data are views of it, not copies (protobuf aliases only
     * input marked immutable).
     */
    static MessageBatch parseBatch(byte[] payload, int offset, int length) throws java.io.IOException {
        CodedInputStream in = UnsafeByteOperations.unsafeWrap(payload, offset, length).newCodedInput();
        in.enableAliasing(true);
        return MessageBatch.parseFrom(in);
    }

    /**
     * Limits and timings.
     *
     * @param maxQueuedMessages  per-peer outbound queue bound, in messages
     * @param maxQueuedBytes     per-peer outbound queue bound, in estimated bytes
     * @param maxBatchBytes      target size of one MessageBatch (one larger message is sent alone)
     * @param maxMessageBytes    largest gRPC message sent or accepted; a larger Raft message is
     *                           dropped by the sender
     * @param snapshotChunkBytes data bytes per SnapshotChunk
     * @param maxSnapshotBytes   largest snapshot the receiver accepts
     * @param backoffMin         first reconnect delay after a failure
     * @param backoffMax         reconnect delay cap (the delay doubles up to it)
     * @param connectTimeout     TCP connect timeout
     * @param snapshotIdleTimeout a snapshot upload with no progress for this long fails
     * @param keepAliveTimeout   a message connection from which nothing was read for this long
     *                           is closed and its peer reported unreachable; an open stream
     *                           sends an HTTP/2 PING every third of it, so a live peer always
     *                           has something to answer. Catches peers that vanish without a
     *                           TCP reset and listeners that accept but never speak HTTP/2
     */
    public record Options(int maxQueuedMessages, long maxQueuedBytes, int maxBatchBytes, int maxMessageBytes,
                          int snapshotChunkBytes, long maxSnapshotBytes, Duration backoffMin,
                          Duration backoffMax, Duration connectTimeout, Duration snapshotIdleTimeout,
                          Duration keepAliveTimeout) {
        public Options {
            if (maxQueuedMessages < 1 || maxQueuedBytes < 1 || maxBatchBytes < 1 || snapshotChunkBytes < 1) {
                throw new IllegalArgumentException("queue, batch and chunk limits must be positive");
            }
            if (maxMessageBytes < maxBatchBytes || maxMessageBytes < snapshotChunkBytes + 1024) {
                throw new IllegalArgumentException("maxMessageBytes must hold a batch and a chunk");
            }
            if (maxSnapshotBytes < 0 || maxSnapshotBytes > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("maxSnapshotBytes must fit a Java array");
            }
            if (backoffMin.isNegative() || backoffMin.isZero() || backoffMax.compareTo(backoffMin) < 0) {
                throw new IllegalArgumentException("need 0 < backoffMin <= backoffMax");
            }
            if (keepAliveTimeout.toMillis() < 3 || snapshotIdleTimeout.toMillis() < 1 || connectTimeout.toMillis() < 1) {
                throw new IllegalArgumentException("timeouts must be positive (keepAliveTimeout at least 3 ms)");
            }
        }

        /** Defaults for a production node: 4096 messages / 64 MiB per peer, 1 MiB batches and chunks. */
        public static Options defaults() {
            return new Options(4096, 64L << 20, 1 << 20, 64 << 20, 1 << 20, Integer.MAX_VALUE - 8,
                    Duration.ofMillis(50), Duration.ofSeconds(2), Duration.ofSeconds(2), Duration.ofSeconds(30),
                    Duration.ofSeconds(5));
        }

        /** A copy with other queue bounds. */
        public Options withQueueBounds(int messages, long bytes) {
            return new Options(messages, bytes, maxBatchBytes, maxMessageBytes, snapshotChunkBytes,
                    maxSnapshotBytes, backoffMin, backoffMax, connectTimeout, snapshotIdleTimeout, keepAliveTimeout);
        }

        /** A copy with another reconnect backoff. */
        public Options withBackoff(Duration min, Duration max) {
            return new Options(maxQueuedMessages, maxQueuedBytes, maxBatchBytes, maxMessageBytes,
                    snapshotChunkBytes, maxSnapshotBytes, min, max, connectTimeout, snapshotIdleTimeout, keepAliveTimeout);
        }

        /** A copy with another keep-alive timeout. */
        public Options withKeepAliveTimeout(Duration timeout) {
            return new Options(maxQueuedMessages, maxQueuedBytes, maxBatchBytes, maxMessageBytes,
                    snapshotChunkBytes, maxSnapshotBytes, backoffMin, backoffMax, connectTimeout,
                    snapshotIdleTimeout, timeout);
        }

        /** A copy with other message and chunk size limits. */
        public Options withSizes(int batchBytes, int messageBytes, int chunkBytes) {
            return new Options(maxQueuedMessages, maxQueuedBytes, batchBytes, messageBytes, chunkBytes,
                    maxSnapshotBytes, backoffMin, backoffMax, connectTimeout, snapshotIdleTimeout, keepAliveTimeout);
        }
    }

    private enum State { NEW, STARTED, CLOSED }

    private final String listenHost;
    private final int listenPort;
    private final Options options;
    private final Vertx vertx;
    private final boolean ownsVertx;
    /** Runs callbacks that belong to no peer (a snapshot for an unknown peer). */
    private final Context callbackContext;

    private final AtomicLong droppedMessages = new AtomicLong();
    private final AtomicLong rejectedSnapshots = new AtomicLong();

    /** Guards lifecycle and peer-set changes; never held while sending. */
    private final Object lock = new Object();
    private volatile State state = State.NEW;
    private volatile MessageHandler handler;
    private volatile Map<Long, PeerSender> senders = Map.of();
    private HttpServer httpServer;

    /**
     * A transport with default {@link Options} and its own Vert.x instance, closed by
     * {@link #close()}. The transport needs no member id: a joining node learns its own from the
     * first message it receives ({@link Message#to()}), and the transport does not filter on it.
     *
     * @param listenHost host or IP the peer listener binds (from --listen-peer-urls)
     * @param listenPort its port; 0 picks a free port, see {@link #port()}
     */
    public GrpcPeerTransport(String listenHost, int listenPort) {
        this(listenHost, listenPort, Options.defaults());
    }

    /** A transport with its own Vert.x instance, closed by {@link #close()}. */
    public GrpcPeerTransport(String listenHost, int listenPort, Options options) {
        this(Vertx.vertx(), true, listenHost, listenPort, options);
    }

    /** A transport on a shared Vert.x instance, which {@link #close()} leaves running. */
    public GrpcPeerTransport(Vertx vertx, String listenHost, int listenPort, Options options) {
        this(vertx, false, listenHost, listenPort, options);
    }

    private GrpcPeerTransport(Vertx vertx, boolean ownsVertx, String listenHost, int listenPort, Options options) {
        if (listenPort < 0 || listenPort > 65535) {
            throw new IllegalArgumentException("peer port out of range: " + listenPort);
        }
        this.vertx = vertx;
        this.ownsVertx = ownsVertx;
        this.listenHost = listenHost;
        this.listenPort = listenPort;
        this.options = options;
        this.callbackContext = vertx.getOrCreateContext();
    }

    @Override
    public void start(MessageHandler handler) {
        synchronized (lock) {
            if (state != State.NEW) {
                throw new IllegalStateException("transport already " + state);
            }
            this.handler = handler;
            GrpcServer grpc = GrpcServer.server(vertx, new GrpcServerOptions().setMaxMessageSize(options.maxMessageBytes()));
            grpc.callHandler(STREAM_SERVER, this::acceptStream);
            grpc.callHandler(PeerGrpc.getSendSnapshotMethod(), this::acceptSnapshot);
            HttpServerOptions serverOptions = new HttpServerOptions()
                    .setHost(listenHost)
                    .setPort(listenPort)
                    .setInitialSettings(new Http2Settings().setInitialWindowSize(1 << 20))
                    .setHttp2ConnectionWindowSize(8 << 20);
            HttpServer server = vertx.createHttpServer(serverOptions).requestHandler(grpc);
            try {
                await(server.listen());
            } catch (RuntimeException e) {
                closeQuietly();
                throw new IllegalStateException("cannot listen on peer address " + listenHost + ":" + listenPort, e);
            }
            httpServer = server;
            state = State.STARTED;
            LOG.infof("peer transport listening on %s:%d", listenHost, server.actualPort());
        }
    }

    /** True if the listen host is one literal IP address (not a wildcard or a name). */
    private boolean bindsSpecificAddress() {
        if (listenHost.equals("0.0.0.0") || listenHost.equals("::") || listenHost.equals("[::]")) {
            return false;
        }
        return listenHost.chars().allMatch(c -> Character.isDigit(c) || c == '.');
    }

    /** How long a connection attempt may take before it is abandoned: TCP connect plus HTTP/2 setup. */
    private long connectDeadlineMillis() {
        return options.connectTimeout().toMillis() + options.keepAliveTimeout().toMillis();
    }

    private GrpcClientOptions clientOptions(Duration readIdleTimeout) {
        // HTTP/2 with prior knowledge: without it Vert.x starts on HTTP/1.1 and tries an h2c
        // upgrade, which a request that never ends (our stream) never completes.
        HttpClientOptions transport = new HttpClientOptions()
                .setProtocolVersion(HttpVersion.HTTP_2)
                .setHttp2ClearTextUpgrade(false)
                .setConnectTimeout((int) options.connectTimeout().toMillis())
                .setReadIdleTimeout((int) readIdleTimeout.toMillis())
                .setIdleTimeoutUnit(TimeUnit.MILLISECONDS)
                .setInitialSettings(new Http2Settings().setInitialWindowSize(1 << 20))
                .setHttp2ConnectionWindowSize(8 << 20);
        if (bindsSpecificAddress()) {
            // Connect from the address we listen on, so that the member's traffic is attributable
            // to it (firewall rules, and the fault-injection tests that cut its links).
            transport.setLocalAddress(listenHost);
        }
        return new GrpcClientOptions()
                .setMaxMessageSize(options.maxMessageBytes())
                .setTransportOptions(transport);
    }

    /** The bound peer port (useful when the listen address asked for port 0); -1 before start. */
    public int port() {
        HttpServer server = httpServer;
        return server == null ? -1 : server.actualPort();
    }

    private volatile String advertisedPeerUrl = "";
    private volatile java.util.Set<Long> removedPeers = java.util.Set.of();
    /** The status message with which a removed member's stream is refused. */
    static final String REMOVED_MESSAGE = "raftkv: this member has been removed from the cluster";

    @Override
    public void setRemovedPeers(java.util.Set<Long> removed) {
        this.removedPeers = java.util.Set.copyOf(removed);
    }

    @Override
    public void setAdvertisedPeerUrl(String url) {
        this.advertisedPeerUrl = url == null ? "" : url;
    }

    /** Adds a sender we have no address for, from the URL it advertised in its batch. */
    private void learnSender(long id, String url) {
        if (url.isEmpty() || senders.containsKey(id)) {
            return;
        }
        SocketAddress address;
        try {
            address = parseAddress(url);
        } catch (RuntimeException e) {
            return;
        }
        synchronized (lock) {
            if (state == State.CLOSED || senders.containsKey(id)) {
                return;
            }
            Map<Long, PeerSender> next = new HashMap<>(senders);
            next.put(id, new PeerSender(id, address));
            senders = Map.copyOf(next);
        }
        LOG.infof("learned the address of member %x from its messages: %s", id, url);
    }

    @Override
    public void setPeers(Map<Long, String> peers) {
        Map<Long, SocketAddress> parsed = new HashMap<>();
        peers.forEach((id, address) -> parsed.put(id, parseAddress(address)));
        synchronized (lock) {
            if (state == State.CLOSED) {
                return;
            }
            Map<Long, PeerSender> next = new HashMap<>();
            List<PeerSender> removed = new ArrayList<>();
            for (PeerSender s : senders.values()) {
                SocketAddress address = parsed.get(s.peer);
                if (address != null && s.address.host().equals(address.host()) && s.address.port() == address.port()) {
                    next.put(s.peer, s);
                } else {
                    removed.add(s);
                }
            }
            parsed.forEach((id, address) -> next.computeIfAbsent(id, i -> new PeerSender(i, address)));
            senders = Map.copyOf(next);
            removed.forEach(PeerSender::close);
        }
    }

    @Override
    public void send(List<Message> messages) {
        if (messages == null) {
            return;
        }
        try {
            Map<Long, PeerSender> current = senders;
            boolean started = state == State.STARTED;
            for (Message m : messages) {
                PeerSender s = started ? current.get(m.to()) : null;
                if (m instanceof Message.InstallSnapshot snapshot) {
                    if (s == null || !s.enqueueSnapshot(snapshot)) {
                        droppedMessages.incrementAndGet();
                        reportSnapshotStatusLater(callbackContext, m.to(), false);
                    }
                } else if (s == null || !s.enqueue(m)) {
                    droppedMessages.incrementAndGet();
                }
            }
        } catch (RuntimeException e) {
            // Must not throw: a bug here must not take the driver loop down with it.
            LOG.error("peer transport failed to queue messages", e);
        }
    }

    @Override
    public long droppedMessages() {
        return droppedMessages.get();
    }

    /** Snapshots this node refused as a receiver (bad CRC, bad length, malformed stream, too big). */
    public long rejectedSnapshots() {
        return rejectedSnapshots.get();
    }

    @Override
    public void close() {
        synchronized (lock) {
            if (state == State.CLOSED) {
                return;
            }
            state = State.CLOSED;
            List<Future<Void>> torn = new ArrayList<>();
            senders.values().forEach(s -> torn.add(s.close()));
            senders = Map.of();
            for (Future<Void> f : torn) {
                try {
                    await(f);
                } catch (RuntimeException e) {
                    LOG.debug("error while closing a peer stream", e);
                }
            }
            closeQuietly();
        }
    }

    private void closeQuietly() {
        List<Future<?>> closing = new ArrayList<>();
        if (httpServer != null) {
            closing.add(httpServer.close());
        }
        for (Future<?> f : closing) {
            try {
                await(f);
            } catch (RuntimeException e) {
                LOG.debug("error while closing peer transport", e);
            }
        }
        if (ownsVertx) {
            try {
                await(vertx.close());
            } catch (RuntimeException e) {
                LOG.debug("error while closing Vert.x", e);
            }
        }
    }

    // ---------------------------------------------------------------- receiving

    private void acceptStream(GrpcServerRequest<MessageBatch, Ack> request) {
        boolean[] refused = new boolean[1];
        request.handler(batch -> {
            if (refused[0]) {
                return;
            }
            if (batch.getMessagesCount() > 0 && removedPeers.contains(batch.getMessages(0).getFrom())) {
                refused[0] = true;
                request.response().status(GrpcStatus.FAILED_PRECONDITION).statusMessage(REMOVED_MESSAGE).end();
                return;
            }
            if (batch.getMessagesCount() > 0 && !batch.getSenderPeerUrl().isEmpty()) {
                learnSender(batch.getMessages(0).getFrom(), batch.getSenderPeerUrl());
            }
            for (RaftMessage proto : batch.getMessagesList()) {
                deliver(proto);
            }
        });
        request.endHandler(v -> request.response().end(Ack.getDefaultInstance()));
        request.exceptionHandler(e -> LOG.debugf("inbound peer stream failed: %s", e.toString()));
        boolean[] failed = new boolean[1];
        request.invalidMessageHandler(e -> {
            // Oversized or undecodable batch: fail the stream; the sender reconnects.
            if (!failed[0]) {
                failed[0] = true;
                LOG.warnf("closing inbound peer stream: %s", e.toString());
                request.response().status(GrpcStatus.INVALID_ARGUMENT).statusMessage(e.toString()).end();
            }
        });
    }

    private void deliver(RaftMessage proto) {
        Message message;
        try {
            message = RaftMessageCodec.fromProto(proto);
        } catch (IllegalArgumentException e) {
            LOG.warnf("dropping undecodable message from %x: %s", proto.getFrom(), e.getMessage());
            return;
        }
        deliver(message);
    }

    private void deliver(Message message) {
        MessageHandler h = handler;
        if (h == null || state != State.STARTED) {
            return;
        }
        try {
            h.onMessage(message);
        } catch (RuntimeException e) {
            LOG.error("message handler failed", e);
        }
    }

    private void acceptSnapshot(GrpcServerRequest<SnapshotChunk, SnapshotAck> request) {
        new SnapshotReceiver(request).start();
    }

    /** One inbound SendSnapshot call; confined to the event loop of its connection. */
    private final class SnapshotReceiver {
        private final GrpcServerRequest<SnapshotChunk, SnapshotAck> request;
        private final CRC32C crc = new CRC32C();
        private SnapshotHeader header;
        private byte[] data;
        private int received;
        private boolean lastSeen;
        private int expectedCrc;
        private boolean done;

        SnapshotReceiver(GrpcServerRequest<SnapshotChunk, SnapshotAck> request) {
            this.request = request;
        }

        void start() {
            request.handler(this::onChunk);
            request.endHandler(v -> onEnd());
            request.invalidMessageHandler(e -> {
                if (!done) {
                    reject(GrpcStatus.INVALID_ARGUMENT, "bad snapshot chunk at offset " + received + ": " + e);
                }
            });
            request.exceptionHandler(e -> {
                if (!done) {
                    done = true;
                    LOG.debugf("inbound snapshot stream failed: %s", e.toString());
                }
            });
        }

        private void onChunk(SnapshotChunk chunk) {
            if (done) {
                return;
            }
            if (header == null) {
                if (!chunk.hasHeader()) {
                    reject(GrpcStatus.INVALID_ARGUMENT, "first snapshot chunk carries no header");
                    return;
                }
                header = chunk.getHeader();
                if (header.getTotalBytes() > options.maxSnapshotBytes()) {
                    reject(GrpcStatus.RESOURCE_EXHAUSTED, "snapshot of " + header.getTotalBytes()
                            + " bytes exceeds the limit of " + options.maxSnapshotBytes());
                    return;
                }
                data = new byte[(int) header.getTotalBytes()];
            } else if (chunk.hasHeader()) {
                reject(GrpcStatus.INVALID_ARGUMENT, "second snapshot header at offset " + received);
                return;
            }
            if (lastSeen) {
                reject(GrpcStatus.INVALID_ARGUMENT, "snapshot chunk after the last one at offset " + received);
                return;
            }
            int n = chunk.getData().size();
            if (n > data.length - received) {
                reject(GrpcStatus.DATA_LOSS, "snapshot data overruns its declared length "
                        + data.length + " at offset " + received);
                return;
            }
            chunk.getData().copyTo(data, received);
            crc.update(data, received, n);
            received += n;
            if (chunk.getLast()) {
                lastSeen = true;
                expectedCrc = chunk.getCrc32C();
            }
        }

        private void onEnd() {
            if (done) {
                return;
            }
            if (header == null || !lastSeen) {
                reject(GrpcStatus.DATA_LOSS, "snapshot stream ended without its last chunk after "
                        + received + " bytes");
                return;
            }
            if (received != data.length) {
                reject(GrpcStatus.DATA_LOSS, "snapshot has " + received + " bytes, header declared " + data.length);
                return;
            }
            int actualCrc = (int) crc.getValue();
            if (actualCrc != expectedCrc) {
                reject(GrpcStatus.DATA_LOSS, String.format(
                        "snapshot CRC32C mismatch: computed %08x over %d bytes, sender declared %08x",
                        actualCrc, received, expectedCrc));
                return;
            }
            done = true;
            Snapshot snapshot = new Snapshot(RaftMessageCodec.metadataFromProto(header.getMetadata()), data);
            deliver(new Message.InstallSnapshot(header.getFrom(), header.getTo(), header.getTerm(), snapshot));
            request.response().end(SnapshotAck.getDefaultInstance());
        }

        private void reject(GrpcStatus status, String reason) {
            done = true;
            data = null;
            rejectedSnapshots.incrementAndGet();
            LOG.warnf("rejecting snapshot from %x (index %d): %s", header == null ? 0 : header.getFrom(),
                    header == null ? 0 : header.getMetadata().getIndex(), reason);
            request.response().status(status).statusMessage(reason).end();
        }
    }

    // ---------------------------------------------------------------- sending

    /**
     * Everything about one peer. The queue and snapshot flag are shared with callers of
     * {@link #send} (guarded by {@code this}); the rest is confined to {@link #context}.
     */
    private final class PeerSender {
        final long peer;
        final SocketAddress address;
        final Context context;
        private final AtomicBoolean flushScheduled = new AtomicBoolean();
        private volatile boolean closed;

        // Guarded by this.
        private final ArrayDeque<Message> queue = new ArrayDeque<>();
        private long queuedBytes;
        private boolean snapshotBusy;

        // Confined to context. Separate clients, hence separate TCP connections, for messages and
        // snapshots; a client whose connection attempt hangs is discarded (its pool would keep
        // the next attempt waiting behind the hung one).
        private GrpcClient streamClient;
        private GrpcClient snapshotClient;
        private long connectAttempt;
        private GrpcClientRequest<MessageBatch, Ack> stream;
        private long streamOpenedNanos;
        private boolean connecting;
        private boolean flushing;
        private long reconnectTimer = -1;
        private long keepAliveTimer = -1;
        private long backoffMillis = options.backoffMin().toMillis();
        private SnapshotUpload upload;

        PeerSender(long peer, SocketAddress address) {
            this.peer = peer;
            this.address = address;
            this.context = vertx.getOrCreateContext();
        }

        /** Any thread. Returns false if the message does not fit. */
        boolean enqueue(Message m) {
            long size = RaftMessageCodec.estimateSizeBytes(m);
            synchronized (this) {
                if (closed || queue.size() >= options.maxQueuedMessages()
                        || queuedBytes + size > options.maxQueuedBytes()) {
                    return false;
                }
                queue.addLast(m);
                queuedBytes += size;
            }
            scheduleFlush();
            return true;
        }

        /** Any thread. Returns false if another snapshot is in flight to this peer. */
        boolean enqueueSnapshot(Message.InstallSnapshot m) {
            synchronized (this) {
                if (closed || snapshotBusy) {
                    return false;
                }
                snapshotBusy = true;
            }
            context.runOnContext(v -> startSnapshot(m));
            return true;
        }

        /** Any thread. Completes once the stream and any snapshot upload are torn down. */
        Future<Void> close() {
            Promise<Void> torn = Promise.promise();
            int lost;
            synchronized (this) {
                closed = true;
                lost = queue.size();
                queue.clear();
                queuedBytes = 0;
            }
            droppedMessages.addAndGet(lost);
            context.runOnContext(v -> {
                if (reconnectTimer != -1) {
                    vertx.cancelTimer(reconnectTimer);
                    reconnectTimer = -1;
                }
                cancelKeepAlive();
                if (stream != null) {
                    GrpcClientRequest<MessageBatch, Ack> s = stream;
                    stream = null;
                    cancelQuietly(s);
                }
                if (upload != null) {
                    upload.finish(false, "transport closed or peer removed");
                }
                connectAttempt++;
                List<Future<Void>> closing = new ArrayList<>();
                if (streamClient != null) {
                    closing.add(streamClient.close());
                    streamClient = null;
                }
                if (snapshotClient != null) {
                    closing.add(snapshotClient.close());
                    snapshotClient = null;
                }
                Future.join(closing).onComplete(ar -> torn.complete());
            });
            return torn.future();
        }

        private void scheduleFlush() {
            if (flushScheduled.compareAndSet(false, true)) {
                context.runOnContext(v -> flush());
            }
        }

        private void flush() {
            flushScheduled.set(false);
            // write() may call the drain handler, hence flush(), synchronously: never re-enter.
            if (closed || flushing) {
                return;
            }
            flushing = true;
            try {
                flushQueue();
            } finally {
                flushing = false;
            }
        }

        private void flushQueue() {
            if (stream == null) {
                if (hasQueued()) {
                    connect();
                }
                return;
            }
            GrpcClientRequest<MessageBatch, Ack> current = stream;
            // A write may fail synchronously and clear `stream`: stop then.
            while (current == stream && !current.writeQueueFull()) {
                MessageBatch batch = nextBatch();
                if (batch == null) {
                    return;
                }
                if (batch.getMessagesCount() > 0) {
                    current.write(batch);
                }
            }
            // The drain handler calls flush again once the stream has room.
        }

        private synchronized boolean hasQueued() {
            return !queue.isEmpty();
        }

        /** Takes up to maxBatchBytes (at least one message) from the queue; null if empty. */
        private MessageBatch nextBatch() {
            List<Message> taken = new ArrayList<>();
            synchronized (this) {
                long bytes = 0;
                while (!queue.isEmpty()) {
                    long size = RaftMessageCodec.estimateSizeBytes(queue.peekFirst());
                    if (!taken.isEmpty() && bytes + size > options.maxBatchBytes()) {
                        break;
                    }
                    taken.add(queue.pollFirst());
                    queuedBytes -= size;
                    bytes += size;
                }
            }
            if (taken.isEmpty()) {
                return null;
            }
            MessageBatch.Builder batch = MessageBatch.newBuilder().setSenderPeerUrl(advertisedPeerUrl);
            for (Message m : taken) {
                RaftMessage proto = RaftMessageCodec.toProto(m);
                if (proto.getSerializedSize() > options.maxMessageBytes() - 64) {
                    droppedMessages.incrementAndGet();
                    LOG.warnf("dropping %s to %x: %d bytes exceed maxMessageBytes", m.getClass().getSimpleName(),
                            peer, proto.getSerializedSize());
                    continue;
                }
                batch.addMessages(proto);
            }
            return batch.getMessagesCount() == 0 ? MessageBatch.getDefaultInstance() : batch.build();
        }

        private void connect() {
            if (closed || stream != null || connecting || reconnectTimer != -1) {
                return;
            }
            connecting = true;
            long attempt = ++connectAttempt;
            if (streamClient == null) {
                streamClient = GrpcClient.client(vertx, clientOptions(options.keepAliveTimeout()));
            }
            GrpcClient client = streamClient;
            long deadlineMillis = connectDeadlineMillis();
            long deadline = vertx.setTimer(deadlineMillis, id -> {
                if (attempt == connectAttempt && connecting) {
                    connecting = false;
                    connectAttempt++;
                    discardStreamClient(client);
                    failed(null, new java.util.concurrent.TimeoutException(
                            "no HTTP/2 connection within " + deadlineMillis + " ms"));
                }
            });
            client.request(address, STREAM).onComplete(ar -> {
                if (attempt != connectAttempt) {
                    // Abandoned at its deadline, or the sender was closed meanwhile.
                    if (ar.succeeded()) {
                        cancelQuietly(ar.result());
                    }
                    return;
                }
                vertx.cancelTimer(deadline);
                connecting = false;
                if (ar.failed()) {
                    failed(null, ar.cause());
                    return;
                }
                GrpcClientRequest<MessageBatch, Ack> request = ar.result();
                if (closed) {
                    cancelQuietly(request);
                    return;
                }
                stream = request;
                streamOpenedNanos = System.nanoTime();
                keepAliveTimer = vertx.setPeriodic(Math.max(1, options.keepAliveTimeout().toMillis() / 3),
                        id -> keepAlive(request));
                request.exceptionHandler(e -> failed(request, e));
                request.drainHandler(v -> {
                    if (stream == request) {
                        flush();
                    }
                });
                request.response().onComplete(r -> {
                    if (r.failed()) {
                        failed(request, r.cause());
                        return;
                    }
                    GrpcClientResponse<MessageBatch, Ack> response = r.result();
                    response.exceptionHandler(e -> failed(request, e));
                    response.endHandler(v -> {
                        if (response.status() == GrpcStatus.FAILED_PRECONDITION
                                && REMOVED_MESSAGE.equals(response.statusMessage())) {
                            MessageHandler h = handler;
                            if (h != null) {
                                h.onRemoved();
                            }
                        }
                        failed(request, new IllegalStateException("peer ended the stream with status "
                                + response.status()));
                    });
                });
                flush();
            });
        }

        private void discardStreamClient(GrpcClient client) {
            if (streamClient == client) {
                streamClient = null;
            }
            client.close();
        }

        /** Pings the peer so that a live one always has something to answer (see keepAliveTimeout). */
        private void keepAlive(GrpcClientRequest<MessageBatch, Ack> request) {
            if (request != stream) {
                return;
            }
            try {
                long sent = System.nanoTime();
                request.connection().ping(Buffer.buffer(new byte[8]))
                        .onSuccess(b -> {
                            MessageHandler h = handler;
                            if (h != null) {
                                h.onRoundTrip(peer, System.nanoTime() - sent);
                            }
                        })
                        .onFailure(e -> failed(request, e));
            } catch (RuntimeException e) {
                failed(request, e);
            }
        }

        private void cancelKeepAlive() {
            if (keepAliveTimer != -1) {
                vertx.cancelTimer(keepAliveTimer);
                keepAliveTimer = -1;
            }
        }

        /** The stream (or, with {@code request == null}, the attempt to open one) failed. */
        private void failed(GrpcClientRequest<MessageBatch, Ack> request, Throwable cause) {
            if (request != null) {
                if (request != stream) {
                    return;
                }
                stream = null;
                cancelKeepAlive();
                cancelQuietly(request);
                if (System.nanoTime() - streamOpenedNanos > options.backoffMax().toNanos()) {
                    backoffMillis = options.backoffMin().toMillis();
                }
            }
            if (closed) {
                return;
            }
            LOG.debugf("stream to peer %x at %s failed: %s", peer, address, cause.toString());
            reportUnreachable(peer);
            long delay = backoffMillis / 2 + ThreadLocalRandom.current().nextLong(backoffMillis / 2 + 1);
            backoffMillis = Math.min(backoffMillis * 2, options.backoffMax().toMillis());
            reconnectTimer = vertx.setTimer(Math.max(1, delay), id -> {
                reconnectTimer = -1;
                flush();
            });
        }

        private void startSnapshot(Message.InstallSnapshot m) {
            if (closed) {
                snapshotDone(false);
                return;
            }
            if (snapshotClient == null) {
                snapshotClient = GrpcClient.client(vertx, clientOptions(options.snapshotIdleTimeout()));
            }
            GrpcClient client = snapshotClient;
            boolean[] settled = new boolean[1];
            long deadlineMillis = connectDeadlineMillis();
            long deadline = vertx.setTimer(deadlineMillis, id -> {
                if (!settled[0]) {
                    settled[0] = true;
                    if (snapshotClient == client) {
                        snapshotClient = null;
                    }
                    client.close();
                    LOG.infof("cannot send snapshot %d to peer %x: no HTTP/2 connection within %d ms",
                            m.snapshot().metadata().index(), peer, deadlineMillis);
                    snapshotDone(false);
                }
            });
            client.request(address, PeerGrpc.getSendSnapshotMethod()).onComplete(ar -> {
                if (settled[0]) {
                    if (ar.succeeded()) {
                        cancelQuietly(ar.result());
                    }
                    return;
                }
                settled[0] = true;
                vertx.cancelTimer(deadline);
                if (ar.failed()) {
                    LOG.infof("cannot send snapshot %d to peer %x: %s", m.snapshot().metadata().index(), peer,
                            ar.cause().toString());
                    snapshotDone(false);
                    return;
                }
                upload = new SnapshotUpload(this, ar.result(), m);
                if (closed) {
                    upload.finish(false, "transport closed or peer removed");
                } else {
                    upload.start();
                }
            });
        }

        void snapshotDone(boolean success) {
            synchronized (this) {
                snapshotBusy = false;
            }
            upload = null;
            reportSnapshotStatus(peer, success);
        }
    }

    /**
     * One outbound SendSnapshot call, confined to its peer's context. Writes a chunk at a time
     * while the stream has room and resumes on drain, so at most a write queue's worth of chunks
     * exists besides the snapshot's own array (chunks wrap it, they do not copy it).
     */
    private final class SnapshotUpload {
        private final PeerSender sender;
        private final GrpcClientRequest<SnapshotChunk, SnapshotAck> request;
        private final Message.InstallSnapshot message;
        private final byte[] data;
        private final CRC32C crc = new CRC32C();
        private boolean headerSent;
        private int offset;
        private boolean allSent;
        private boolean pumping;
        private boolean done;
        private boolean acked;

        SnapshotUpload(PeerSender sender, GrpcClientRequest<SnapshotChunk, SnapshotAck> request,
                       Message.InstallSnapshot message) {
            this.sender = sender;
            this.request = request;
            this.message = message;
            this.data = message.snapshot().data();
        }

        void start() {
            request.idleTimeout(options.snapshotIdleTimeout().toMillis());
            request.exceptionHandler(e -> finish(false, e.toString()));
            request.drainHandler(v -> pump());
            request.response().onComplete(r -> {
                if (r.failed()) {
                    finish(false, r.cause().toString());
                    return;
                }
                GrpcClientResponse<SnapshotChunk, SnapshotAck> response = r.result();
                response.handler(ack -> acked = true);
                response.exceptionHandler(e -> finish(false, e.toString()));
                response.endHandler(v -> finish(acked && response.status() == GrpcStatus.OK,
                        response.status() + " " + response.statusMessage()));
            });
            pump();
        }

        private void pump() {
            // write() may call the drain handler, hence pump(), synchronously: never re-enter.
            if (pumping) {
                return;
            }
            pumping = true;
            try {
                pumpChunks();
            } finally {
                pumping = false;
            }
        }

        private void pumpChunks() {
            while (!done && !allSent && !request.writeQueueFull()) {
                if (!headerSent) {
                    headerSent = true;
                    request.write(SnapshotChunk.newBuilder().setHeader(SnapshotHeader.newBuilder()
                            .setFrom(message.from())
                            .setTo(message.to())
                            .setTerm(message.term())
                            .setMetadata(RaftMessageCodec.metadataToProto(message.snapshot().metadata()))
                            .setTotalBytes(data.length)).build());
                } else if (offset < data.length) {
                    int start = offset;
                    int n = Math.min(options.snapshotChunkBytes(), data.length - start);
                    offset += n;
                    crc.update(data, start, n);
                    request.write(SnapshotChunk.newBuilder()
                            .setData(UnsafeByteOperations.unsafeWrap(data, start, n)).build());
                } else {
                    allSent = true;
                    request.end(SnapshotChunk.newBuilder().setLast(true).setCrc32C((int) crc.getValue()).build());
                }
            }
        }

        void finish(boolean success, String detail) {
            if (done) {
                return;
            }
            done = true;
            if (!success) {
                cancelQuietly(request);
                LOG.infof("snapshot %d to peer %x failed: %s", message.snapshot().metadata().index(),
                        sender.peer, detail);
            }
            sender.snapshotDone(success);
        }
    }

    // ---------------------------------------------------------------- helpers

    private void reportUnreachable(long peer) {
        MessageHandler h = handler;
        if (h == null || state != State.STARTED) {
            return;
        }
        try {
            h.onUnreachable(peer);
        } catch (RuntimeException e) {
            LOG.error("onUnreachable handler failed", e);
        }
    }

    private void reportSnapshotStatus(long peer, boolean success) {
        MessageHandler h = handler;
        if (h == null) {
            return;
        }
        try {
            h.onSnapshotStatus(peer, success);
        } catch (RuntimeException e) {
            LOG.error("onSnapshotStatus handler failed", e);
        }
    }

    private void reportSnapshotStatusLater(Context context, long peer, boolean success) {
        context.runOnContext(v -> reportSnapshotStatus(peer, success));
    }

    private static void cancelQuietly(io.vertx.grpc.common.GrpcWriteStream<?> stream) {
        try {
            stream.cancel();
        } catch (RuntimeException e) {
            LOG.trace("cancel of a finished stream", e);
        }
    }

    private static <T> T await(Future<T> future) {
        try {
            return future.toCompletionStage().toCompletableFuture().get(CLOSE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("timed out after " + CLOSE_TIMEOUT_SECONDS + " s", e);
        }
    }

    /**
     * Parses {@code host:port}, {@code [v6]:port} or {@code http://host:port} (an etcd peer URL).
     *
     * @throws IllegalArgumentException if it is none of these
     */
    static SocketAddress parseAddress(String address) {
        String s = address.startsWith("http://") ? address.substring("http://".length()) : address;
        if (s.endsWith("/")) {
            s = s.substring(0, s.length() - 1);
        }
        int colon = s.lastIndexOf(':');
        if (colon <= 0 || colon == s.length() - 1) {
            throw new IllegalArgumentException("peer address must be host:port, got '" + address + "'");
        }
        String host = s.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(s.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("peer address must be host:port, got '" + address + "'", e);
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port out of range in '" + address + "'");
        }
        return SocketAddress.inetSocketAddress(port, host);
    }
}

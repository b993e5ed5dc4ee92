package io.raftkv.server.transport;

import io.raftkv.raft.ConfState;
import io.raftkv.raft.Entry;
import io.raftkv.raft.Message;
import io.raftkv.raft.Snapshot;
import io.raftkv.raft.SnapshotMetadata;
import io.raftkv.server.api.peer.PeerGrpc;
import io.raftkv.server.api.peer.SnapshotAck;
import io.raftkv.server.api.peer.SnapshotChunk;
import io.raftkv.server.api.peer.SnapshotHeader;
import io.raftkv.server.transport.GrpcPeerTransport.Options;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.GrpcServerOptions;
import org.assertj.core.api.recursive.comparison.RecursiveComparisonConfiguration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import java.util.zip.CRC32C;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/** Real transports on 127.0.0.1 with ephemeral ports. */
class GrpcPeerTransportTest {
    private static final Options FAST = Options.defaults()
            .withBackoff(Duration.ofMillis(20), Duration.ofMillis(200))
            .withKeepAliveTimeout(Duration.ofSeconds(1));
    private static final Duration DEADLINE = Duration.ofSeconds(15);
    private static final RecursiveComparisonConfiguration STRICT =
            RecursiveComparisonConfiguration.builder().withStrictTypeChecking(true).build();

    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    @Test
    void twoTransportsExchangeEveryMessageKind() {
        Node n1 = startNode(1, FAST);
        Node n2 = startNode(2, FAST);
        connect(n1, n2);
        List<Message> oneToTwo = SampleMessages.everyKind(1, 2);
        List<Message> twoToOne = SampleMessages.everyKind(2, 1);

        n1.transport.send(oneToTwo);
        n2.transport.send(twoToOne);

        await().atMost(DEADLINE).untilAsserted(() -> {
            assertThat(n2.recorder.messages).usingRecursiveFieldByFieldElementComparator(STRICT)
                    .containsExactlyInAnyOrderElementsOf(oneToTwo);
            assertThat(n1.recorder.messages).usingRecursiveFieldByFieldElementComparator(STRICT)
                    .containsExactlyInAnyOrderElementsOf(twoToOne);
            assertThat(n1.recorder.snapshotStatuses).containsExactly(Map.entry(2L, true));
            assertThat(n2.recorder.snapshotStatuses).containsExactly(Map.entry(1L, true));
        });
        assertThat(n1.transport.droppedMessages()).isZero();
        assertThat(n2.transport.droppedMessages()).isZero();
    }

    @Test
    void threeTransportsDeliverEveryMessageToItsAddresseeOnly() {
        Node n1 = startNode(1, FAST);
        Node n2 = startNode(2, FAST);
        Node n3 = startNode(3, FAST);
        connect(n1, n2, n3);
        List<Node> nodes = List.of(n1, n2, n3);

        for (Node from : nodes) {
            for (Node to : nodes) {
                if (from != to) {
                    from.transport.send(SampleMessages.everyKind(from.id, to.id));
                }
            }
        }

        await().atMost(DEADLINE).untilAsserted(() -> {
            for (Node to : nodes) {
                List<Message> expected = new ArrayList<>();
                for (Node from : nodes) {
                    if (from != to) {
                        expected.addAll(SampleMessages.everyKind(from.id, to.id));
                    }
                }
                assertThat(to.recorder.messages).usingRecursiveFieldByFieldElementComparator(STRICT)
                        .containsExactlyInAnyOrderElementsOf(expected);
            }
        });
    }

    @Test
    void messagesToOnePeerArriveInSendOrder() {
        Options smallBatches = FAST.withQueueBounds(20_000, 64L << 20).withSizes(4096, 64 << 20, 1 << 20);
        Node n1 = startNode(1, smallBatches);
        Node n2 = startNode(2, smallBatches);
        connect(n1, n2);
        int count = 5000;
        Random random = new Random(42);

        List<Message> group = new ArrayList<>();
        for (long index = 1; index <= count; index++) {
            group.add(append(1, 2, index, new byte[random.nextInt(300)]));
            if (random.nextInt(4) == 0 || index == count) {
                n1.transport.send(group);
                group = new ArrayList<>();
            }
        }

        await().atMost(DEADLINE).until(() -> n2.recorder.messages.size() == count);
        List<Long> indexes = n2.recorder.messages.stream()
                .map(m -> ((Message.AppendEntries) m).prevIndex())
                .collect(Collectors.toList());
        assertThat(indexes).containsExactlyElementsOf(LongStream.rangeClosed(1, count).boxed().toList());
    }

    @Test
    void peerThatIsDownIsReportedUnreachableAndReceivesOnceItStarts() throws IOException {
        Node n1 = startNode(1, FAST);
        int port2 = freePort();
        n1.transport.setPeers(Map.of(2L, "127.0.0.1:" + port2));

        n1.transport.send(List.of(new Message.Heartbeat(1, 2, 5, 10, null)));

        await().atMost(DEADLINE).until(() -> n1.recorder.unreachable.contains(2L));
        Node n2 = startNode(2, port2, FAST);
        n1.transport.send(List.of(new Message.Heartbeat(1, 2, 5, 11, null)));
        await().atMost(DEADLINE).untilAsserted(() -> assertThat(n2.recorder.messages)
                .extracting(m -> ((Message.Heartbeat) m).commit())
                .containsExactly(10L, 11L));
    }

    @Test
    void streamIsReestablishedAfterThePeerRestarts() throws Exception {
        Node n1 = startNode(1, FAST);
        Node n2 = startNode(2, FAST);
        connect(n1, n2);
        int port2 = n2.transport.port();
        n1.transport.send(List.of(new Message.TimeoutNow(1, 2, 1)));
        await().atMost(DEADLINE).until(() -> n2.recorder.messages.size() == 1);

        n2.transport.close();
        await().atMost(DEADLINE).until(() -> {
            n1.transport.send(List.of(new Message.TimeoutNow(1, 2, 2)));
            return n1.recorder.unreachable.contains(2L);
        });
        Node restarted = startNode(2, port2, FAST);

        await().atMost(DEADLINE).untilAsserted(() -> {
            n1.transport.send(List.of(new Message.TimeoutNow(1, 2, 3)));
            assertThat(restarted.recorder.messages).extracting(Message::term).contains(3L);
        });
    }

    @Test
    void peerThatAcceptsConnectionsButNeverAnswersIsReportedUnreachable() throws Exception {
        Node n1 = startNode(1, FAST);
        n1.transport.setPeers(Map.of(2L, "127.0.0.1:" + startBlackHole()));

        n1.transport.send(List.of(new Message.Heartbeat(1, 2, 5, 10, null)));

        await().atMost(DEADLINE).until(() -> n1.recorder.unreachable.contains(2L));
    }

    @Test
    void snapshotToPeerThatNeverAnswersIsReportedFailed() throws Exception {
        Node n1 = startNode(1, FAST);
        n1.transport.setPeers(Map.of(2L, "127.0.0.1:" + startBlackHole()));

        n1.transport.send(List.of(snapshot(1, 2, new byte[1000])));

        await().atMost(DEADLINE).until(() -> !n1.recorder.snapshotStatuses.isEmpty());
        assertThat(n1.recorder.snapshotStatuses).containsExactly(Map.entry(2L, false));
    }

    @Test
    void keepAliveHoldsAnIdleStreamToALivePeerOpen() {
        Node n1 = startNode(1, FAST);
        Node n2 = startNode(2, FAST);
        connect(n1, n2);
        n1.transport.send(List.of(new Message.TimeoutNow(1, 2, 1)));
        await().atMost(DEADLINE).until(() -> n2.recorder.messages.size() == 1);

        // Three keep-alive timeouts without a single message.
        await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(5))
                .until(() -> n1.recorder.unreachable.isEmpty());

        n1.transport.send(List.of(new Message.TimeoutNow(1, 2, 2)));
        await().atMost(DEADLINE).until(() -> n2.recorder.messages.size() == 2);
    }

    @Test
    void largeSnapshotIsStreamedInChunksAndArrivesIntact() {
        // The receiver accepts no gRPC message above 2 MiB: only a chunked stream gets through.
        Options receiverLimits = FAST.withSizes(1 << 20, 2 << 20, 1 << 20);
        Node n1 = startNode(1, FAST);
        Node n2 = startNode(2, receiverLimits);
        connect(n1, n2);
        byte[] data = new byte[20 << 20];
        new Random(7).nextBytes(data);
        ConfState joint = new ConfState(Set.of(1L, 2L), Set.of(4L), Set.of(1L, 2L, 3L), Set.of(3L), false);
        Message.InstallSnapshot sent = new Message.InstallSnapshot(1, 2, 9,
                new Snapshot(new SnapshotMetadata(1000, 8, joint), data));

        n1.transport.send(List.of(sent));

        await().atMost(DEADLINE).until(() -> !n1.recorder.snapshotStatuses.isEmpty());
        assertThat(n1.recorder.snapshotStatuses).containsExactly(Map.entry(2L, true));
        assertThat(n2.recorder.messages).hasSize(1);
        var received = (Message.InstallSnapshot) n2.recorder.messages.peek();
        assertThat(received.from()).isEqualTo(1);
        assertThat(received.to()).isEqualTo(2);
        assertThat(received.term()).isEqualTo(9);
        assertThat(received.snapshot().metadata()).isEqualTo(sent.snapshot().metadata());
        assertThat(received.snapshot().data()).isEqualTo(data);
    }

    @Test
    void snapshotWithCorruptedChunkIsRejectedAndNotDelivered() throws Exception {
        Node n2 = startNode(2, FAST);
        byte[] data = new byte[3 << 20];
        new Random(3).nextBytes(data);
        CRC32C crc = new CRC32C();
        crc.update(data);
        byte[] corrupted = data.clone();
        corrupted[(2 << 20) + 17] ^= 0x01;

        GrpcStatus status = sendRawSnapshot(n2, List.of(
                header(1, 2, data.length),
                dataChunk(corrupted, 0, 1 << 20),
                dataChunk(corrupted, 1 << 20, 1 << 20),
                dataChunk(corrupted, 2 << 20, 1 << 20),
                SnapshotChunk.newBuilder().setLast(true).setCrc32C((int) crc.getValue()).build()));

        assertThat(status).isEqualTo(GrpcStatus.DATA_LOSS);
        assertThat(n2.transport.rejectedSnapshots()).isEqualTo(1);
        assertThat(n2.recorder.messages).isEmpty();
    }

    @Test
    void truncatedOrOverlongSnapshotStreamIsRejected() throws Exception {
        Node n2 = startNode(2, FAST);
        byte[] data = new byte[1000];

        GrpcStatus noLastChunk = sendRawSnapshot(n2, List.of(header(1, 2, 1000), dataChunk(data, 0, 1000)));
        GrpcStatus overrun = sendRawSnapshot(n2, List.of(header(1, 2, 500), dataChunk(data, 0, 1000)));
        GrpcStatus noHeader = sendRawSnapshot(n2, List.of(dataChunk(data, 0, 1000)));

        assertThat(noLastChunk).isEqualTo(GrpcStatus.DATA_LOSS);
        assertThat(overrun).isEqualTo(GrpcStatus.DATA_LOSS);
        assertThat(noHeader).isEqualTo(GrpcStatus.INVALID_ARGUMENT);
        assertThat(n2.transport.rejectedSnapshots()).isEqualTo(3);
        assertThat(n2.recorder.messages).isEmpty();
    }

    @Test
    void senderReportsSnapshotFailureWhenTheReceiverRejectsIt() throws Exception {
        Vertx vertx = Vertx.vertx();
        toClose.add(() -> vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS));
        AtomicBoolean endedByClient = new AtomicBoolean();
        GrpcServer rejecting = GrpcServer.server(vertx, new GrpcServerOptions().setMaxMessageSize(8 << 20));
        rejecting.callHandler(PeerGrpc.getSendSnapshotMethod(), request -> {
            request.handler(chunk -> { });
            request.endHandler(v -> {
                endedByClient.set(true);
                request.response().status(GrpcStatus.DATA_LOSS).statusMessage("bad CRC").end();
            });
        });
        HttpServer server = vertx.createHttpServer().requestHandler(rejecting);
        server.listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        Node n1 = startNode(1, FAST);
        n1.transport.setPeers(Map.of(2L, "127.0.0.1:" + server.actualPort()));

        n1.transport.send(List.of(snapshot(1, 2, new byte[4 << 20])));

        await().atMost(DEADLINE).until(() -> !n1.recorder.snapshotStatuses.isEmpty());
        assertThat(n1.recorder.snapshotStatuses).containsExactly(Map.entry(2L, false));
        assertThat(endedByClient).as("the whole snapshot was sent before the rejection").isTrue();
    }

    @Test
    void snapshotToUnreachablePeerIsReportedFailed() throws IOException {
        Node n1 = startNode(1, FAST);
        n1.transport.setPeers(Map.of(2L, "127.0.0.1:" + freePort()));

        n1.transport.send(List.of(snapshot(1, 2, new byte[10])));

        await().atMost(DEADLINE).until(() -> !n1.recorder.snapshotStatuses.isEmpty());
        assertThat(n1.recorder.snapshotStatuses).containsExactly(Map.entry(2L, false));
    }

    @Test
    void sendNeverBlocksWhenThePeerIsUnreachableAndTheQueueIsFull() throws IOException {
        Node n1 = startNode(1, FAST.withQueueBounds(100, 64L << 20));
        n1.transport.setPeers(Map.of(2L, "127.0.0.1:" + freePort()));

        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
            for (int i = 0; i < 10_000; i++) {
                n1.transport.send(List.of(new Message.Heartbeat(1, 2, 1, i, null)));
            }
        });

        assertThat(n1.transport.droppedMessages()).isEqualTo(9_900);
        await().atMost(DEADLINE).until(() -> n1.recorder.unreachable.contains(2L));
    }

    @Test
    void queueIsBoundedByBytesToo() throws IOException {
        Node n1 = startNode(1, FAST.withQueueBounds(100_000, 64 << 10));
        n1.transport.setPeers(Map.of(2L, "127.0.0.1:" + freePort()));

        for (long i = 1; i <= 1000; i++) {
            n1.transport.send(List.of(append(1, 2, i, new byte[1024])));
        }

        assertThat(n1.transport.droppedMessages()).isBetween(900L, 999L);
    }

    @Test
    void messagesForUnknownPeersAreDroppedAndCounted() {
        Node n1 = startNode(1, FAST);

        n1.transport.send(List.of(new Message.TimeoutNow(1, 9, 1), snapshot(1, 9, new byte[1])));

        assertThat(n1.transport.droppedMessages()).isEqualTo(2);
        await().atMost(DEADLINE).until(() -> n1.recorder.snapshotStatuses.contains(Map.entry(9L, false)));
    }

    @Test
    void peersCanBeRemovedAndAddedAtRuntime() {
        Node n1 = startNode(1, FAST);
        Node n2 = startNode(2, FAST);
        Node n3 = startNode(3, FAST);
        n1.transport.setPeers(Map.of(2L, n2.address()));
        n1.transport.send(List.of(new Message.TimeoutNow(1, 2, 1), new Message.TimeoutNow(1, 3, 1)));
        await().atMost(DEADLINE).until(() -> n2.recorder.messages.size() == 1);
        assertThat(n1.transport.droppedMessages()).isEqualTo(1);

        n1.transport.setPeers(Map.of(3L, n3.address()));
        n1.transport.send(List.of(new Message.TimeoutNow(1, 2, 2), new Message.TimeoutNow(1, 3, 2)));

        await().atMost(DEADLINE).until(() -> n3.recorder.messages.size() == 1);
        assertThat(n3.recorder.messages.peek().term()).isEqualTo(2);
        assertThat(n2.recorder.messages).hasSize(1);
        assertThat(n1.transport.droppedMessages()).isEqualTo(2);
    }

    @Test
    void sendDoesNotThrowOnNullOrBeforeStart() {
        GrpcPeerTransport notStarted = new GrpcPeerTransport("127.0.0.1", 0, FAST);
        toClose.add(notStarted);

        notStarted.send(null);
        notStarted.send(List.of(new Message.TimeoutNow(1, 2, 1)));

        assertThat(notStarted.droppedMessages()).isEqualTo(1);
    }

    // ---------------------------------------------------------------- helpers

    private static Message.AppendEntries append(long from, long to, long index, byte[] data) {
        return new Message.AppendEntries(from, to, 1, index, 1, List.of(Entry.normal(1, index + 1, data)), 0);
    }

    private static Message.InstallSnapshot snapshot(long from, long to, byte[] data) {
        return new Message.InstallSnapshot(from, to, 3,
                new Snapshot(new SnapshotMetadata(50, 3, ConfState.ofVoters(Set.of(1L, 2L))), data));
    }

    private static SnapshotChunk header(long from, long to, long totalBytes) {
        return SnapshotChunk.newBuilder().setHeader(SnapshotHeader.newBuilder()
                .setFrom(from).setTo(to).setTerm(3)
                .setMetadata(RaftMessageCodec.metadataToProto(
                        new SnapshotMetadata(50, 3, ConfState.ofVoters(Set.of(1L, 2L)))))
                .setTotalBytes(totalBytes)).build();
    }

    private static SnapshotChunk dataChunk(byte[] data, int offset, int length) {
        return SnapshotChunk.newBuilder()
                .setData(com.google.protobuf.ByteString.copyFrom(data, offset, length)).build();
    }

    /** Sends chunks as they are, bypassing GrpcPeerTransport's sender, and returns the call's status. */
    private GrpcStatus sendRawSnapshot(Node to, List<SnapshotChunk> chunks) throws Exception {
        Vertx vertx = Vertx.vertx();
        try {
            GrpcClient client = GrpcClient.client(vertx);
            return client.request(SocketAddress.inetSocketAddress(to.transport.port(), "127.0.0.1"),
                            PeerGrpc.getSendSnapshotMethod())
                    .compose(request -> {
                        chunks.forEach(request::write);
                        request.end();
                        return request.response();
                    })
                    .compose(response -> response.end().transform(ar -> Future.succeededFuture(response.status())))
                    .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    private Node startNode(long id, Options options) {
        return startNode(id, 0, options);
    }

    private Node startNode(long id, int port, Options options) {
        GrpcPeerTransport transport = new GrpcPeerTransport("127.0.0.1", port, options);
        toClose.add(transport);
        Recorder recorder = new Recorder();
        transport.start(recorder);
        return new Node(id, transport, recorder);
    }

    private static void connect(Node... nodes) {
        for (Node n : nodes) {
            Map<Long, String> peers = new HashMap<>();
            for (Node other : nodes) {
                if (other != n) {
                    peers.put(other.id, other.address());
                }
            }
            n.transport.setPeers(peers);
        }
    }

    /** A listener that accepts TCP connections and never sends a byte: a hung or half-dead peer. */
    private int startBlackHole() throws IOException {
        ServerSocket blackHole = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        List<Socket> accepted = new CopyOnWriteArrayList<>();
        Thread acceptor = new Thread(() -> {
            try {
                while (true) {
                    accepted.add(blackHole.accept());
                }
            } catch (IOException closed) {
                for (Socket socket : accepted) {
                    try {
                        socket.close();
                    } catch (IOException e) {
                        // the test is over; nothing to do
                    }
                }
            }
        }, "black-hole-acceptor");
        acceptor.setDaemon(true);
        acceptor.start();
        toClose.add(blackHole);
        return blackHole.getLocalPort();
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private record Node(long id, GrpcPeerTransport transport, Recorder recorder) {
        String address() {
            return "127.0.0.1:" + transport.port();
        }
    }

    /** Records every callback; safe to call from any thread. */
    private static final class Recorder implements PeerTransport.MessageHandler {
        final ConcurrentLinkedQueue<Message> messages = new ConcurrentLinkedQueue<>();
        final ConcurrentLinkedQueue<Long> unreachable = new ConcurrentLinkedQueue<>();
        final ConcurrentLinkedQueue<Map.Entry<Long, Boolean>> snapshotStatuses = new ConcurrentLinkedQueue<>();

        @Override
        public void onMessage(Message message) {
            messages.add(message);
        }

        @Override
        public void onUnreachable(long peer) {
            unreachable.add(peer);
        }

        @Override
        public void onSnapshotStatus(long peer, boolean success) {
            snapshotStatuses.add(Map.entry(peer, success));
        }
    }
}

package io.raftkv.server.watch;

import com.google.protobuf.CodedOutputStream;
import io.raftkv.server.api.mvcc.Event;
import io.raftkv.server.api.etcd.WatchResponse;

import java.util.ArrayList;
import java.util.List;

/**
 * How a watcher's events are cut into responses. A batch larger than --max-request-bytes is first
 * cut at revision boundaries into ordinary responses (a catch-up batch of many revisions then
 * never becomes one message beyond what clients accept by default); a single revision still
 * larger is etcd's fragmentation when the watcher asked for it: several responses, each below the
 * limit (or holding one event), all but the last with {@code fragment} set. Pure functions.
 */
final class Fragments {
    /** Field number of {@code WatchResponse.events}. */
    private static final int EVENTS_FIELD = WatchResponse.EVENTS_FIELD_NUMBER;

    private Fragments() {
    }

    /**
     * The responses that carry {@code whole}: cut at revision boundaries so that each stays below
     * {@code maxRequestBytes} unless one revision alone is larger, then each piece through
     * {@link #split}. The events of one revision stay in one response unless fragmented.
     */
    static List<WatchResponse> responses(WatchResponse whole, boolean fragment, long maxRequestBytes) {
        if (whole.getSerializedSize() < maxRequestBytes) {
            return List.of(whole);
        }
        WatchResponse base = whole.toBuilder().clearEvents().build();
        long baseSize = base.getSerializedSize();
        List<WatchResponse> out = new ArrayList<>();
        WatchResponse.Builder current = base.toBuilder();
        long currentSize = baseSize;
        long currentRevision = -1;
        for (Event e : whole.getEventsList()) {
            long eventSize = CodedOutputStream.computeMessageSize(EVENTS_FIELD, e);
            long revision = e.getKv().getModRevision();
            if (current.getEventsCount() > 0 && revision != currentRevision
                    && currentSize + eventSize >= maxRequestBytes) {
                out.addAll(split(current.build(), fragment, maxRequestBytes));
                current = base.toBuilder();
                currentSize = baseSize;
            }
            current.addEvents(e);
            currentSize += eventSize;
            currentRevision = revision;
        }
        out.addAll(split(current.build(), fragment, maxRequestBytes));
        return out;
    }

    /**
     * The responses that carry {@code whole}: itself when the watcher did not ask for fragments,
     * when it is smaller than {@code maxRequestBytes}, or when it holds fewer than two events.
     */
    static List<WatchResponse> split(WatchResponse whole, boolean fragment, long maxRequestBytes) {
        if (!fragment || whole.getSerializedSize() < maxRequestBytes || whole.getEventsCount() < 2) {
            return List.of(whole);
        }
        WatchResponse base = whole.toBuilder().clearEvents().setFragment(true).build();
        long baseSize = base.getSerializedSize();
        List<WatchResponse> out = new ArrayList<>();
        WatchResponse.Builder current = base.toBuilder();
        long currentSize = baseSize;
        for (Event e : whole.getEventsList()) {
            long eventSize = CodedOutputStream.computeMessageSize(EVENTS_FIELD, e);
            if (current.getEventsCount() > 0 && currentSize + eventSize >= maxRequestBytes) {
                out.add(current.build());
                current = base.toBuilder();
                currentSize = baseSize;
            }
            current.addEvents(e);
            currentSize += eventSize;
        }
        out.add(current.setFragment(false).build());
        return out;
    }
}

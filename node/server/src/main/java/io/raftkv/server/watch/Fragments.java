package io.raftkv.server.watch;

import com.google.protobuf.CodedOutputStream;
import io.raftkv.server.api.mvcc.Event;
import io.raftkv.server.api.etcd.WatchResponse;

import java.util.ArrayList;
import java.util.List;

/**
 * etcd's watch fragmentation: a watcher created with {@code fragment} set receives a response
 * larger than --max-request-bytes as several responses, each below the limit (or holding a single
 * event), all but the last with {@code fragment} set. Pure functions.
 */
final class Fragments {
    /** Field number of {@code WatchResponse.events}. */
    private static final int EVENTS_FIELD = WatchResponse.EVENTS_FIELD_NUMBER;

    private Fragments() {
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

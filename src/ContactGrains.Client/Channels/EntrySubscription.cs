using System.Threading.Channels;
using ContactGrains.Protos.V1;

namespace ContactGrains.Client;

/// <summary>
/// One reader of a <see cref="ChannelConnection"/>'s entries: of one conversation, or of all. Entries
/// are sequenced per conversation (<see cref="EntrySequencer"/>) and go into a bounded buffer. When the
/// reader falls behind and the buffer is full, entries are not queued without limit and the stream is
/// not stalled (acks share it): they are dropped, and once the reader has emptied the buffer they are
/// asked for again with a resume, from the last one it received.
/// </summary>
internal sealed class EntrySubscription
{
    private const int RememberedClosed = 4096;

    private readonly Channel<TimelineEntry> _buffer;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, EntrySequencer> _sequencers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ulong> _dropped = new(StringComparer.Ordinal);
    private readonly HashSet<string> _ackedOnly = new(StringComparer.Ordinal);
    private readonly HashSet<string> _closed = new(StringComparer.Ordinal);
    private readonly Queue<string> _closedOrder = new();
    private readonly List<TimelineEntry> _ready = [];
    private readonly ulong _startAfter;
    private bool _paused;

    /// <param name="conversationId">The one conversation read, or null for every conversation on the connection.</param>
    /// <param name="startAfter">For one conversation: the last sequence the reader already has.</param>
    /// <param name="capacity">Entries buffered for the reader.</param>
    public EntrySubscription(string? conversationId, ulong startAfter, int capacity)
    {
        ConversationId = conversationId;
        _startAfter = startAfter;
        _buffer = Channel.CreateBounded<TimelineEntry>(new BoundedChannelOptions(capacity)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        if (conversationId is not null)
        {
            _sequencers[conversationId] = new EntrySequencer(startAfter);
        }
    }

    public string? ConversationId { get; }

    public ChannelReader<TimelineEntry> Reader => _buffer.Reader;

    /// <summary>An entry arrived on the stream. Adds to <paramref name="resumes"/> what should be asked for again.</summary>
    public void Offer(TimelineEntry entry, List<(string ConversationId, ulong After)> resumes)
    {
        var conversationId = entry.ConversationId;
        if (ConversationId is not null && !string.Equals(conversationId, ConversationId, StringComparison.Ordinal))
        {
            return;
        }

        lock (_lock)
        {
            if (_closed.Contains(conversationId))
            {
                return;
            }

            if (_paused)
            {
                _dropped.TryAdd(conversationId, _sequencers.TryGetValue(conversationId, out var known) ? known.Delivered : entry.Sequence - 1);
                return;
            }

            if (!_sequencers.TryGetValue(conversationId, out var sequencer))
            {
                // All-conversation reader: a conversation starts where its first entry on this connection does.
                _ackedOnly.Remove(conversationId);
                _sequencers[conversationId] = sequencer = new EntrySequencer(entry.Sequence - 1);
            }

            _ready.Clear();
            var gap = sequencer.Accept(entry, _ready);
            foreach (var ready in _ready)
            {
                if (!_buffer.Writer.TryWrite(ready))
                {
                    sequencer.Rewind(ready.Sequence);
                    _paused = true;
                    _dropped[conversationId] = sequencer.Delivered;
                    return;
                }

                if (ready.Status?.Kind == StatusKind.Closed)
                {
                    Close(conversationId);
                    return;
                }
            }

            if (gap)
            {
                resumes.Add((conversationId, sequencer.Delivered));
            }
        }
    }

    /// <summary>A message on a conversation this reader has not seen an entry of was acknowledged.</summary>
    public void NoteAcknowledged(string conversationId)
    {
        if (ConversationId is not null)
        {
            return;
        }

        lock (_lock)
        {
            if (!_sequencers.ContainsKey(conversationId) && !_closed.Contains(conversationId))
            {
                _ackedOnly.Add(conversationId);
            }
        }
    }

    /// <summary>
    /// Called by the reader when its buffer is empty: if entries were dropped meanwhile, they are owed
    /// now. Adds the resumes that bring them back.
    /// </summary>
    public void CatchUp(List<(string ConversationId, ulong After)> resumes)
    {
        lock (_lock)
        {
            if (!_paused || _buffer.Reader.Count > 0)
            {
                return;
            }

            _paused = false;
            foreach (var (conversationId, after) in _dropped)
            {
                if (!_sequencers.ContainsKey(conversationId))
                {
                    _sequencers[conversationId] = new EntrySequencer(after);
                }

                resumes.Add((conversationId, after));
            }

            _dropped.Clear();
        }
    }

    /// <summary>Where each conversation this reader follows must start again on a new stream.</summary>
    public void ResumePoints(List<(string ConversationId, ulong After)> resumes)
    {
        lock (_lock)
        {
            foreach (var (conversationId, sequencer) in _sequencers)
            {
                if (!_dropped.ContainsKey(conversationId))
                {
                    resumes.Add((conversationId, sequencer.Delivered));
                }
            }

            foreach (var conversationId in _ackedOnly)
            {
                // Acknowledged, but no entry arrived before the stream broke: everything is new to this reader.
                _sequencers[conversationId] = new EntrySequencer(0);
                resumes.Add((conversationId, 0));
            }

            _ackedOnly.Clear();
            if (!_paused)
            {
                foreach (var pair in _dropped)
                {
                    resumes.Add((pair.Key, pair.Value));
                }

                _dropped.Clear();
            }
        }
    }

    /// <summary>The last sequence of <paramref name="conversationId"/> this reader received (its start if none).</summary>
    public ulong DeliveredOf(string conversationId)
    {
        lock (_lock)
        {
            return _sequencers.TryGetValue(conversationId, out var sequencer) ? sequencer.Delivered : _startAfter;
        }
    }

    /// <summary>No more entries: the reader ends after those buffered, with <paramref name="error"/> if not null.</summary>
    public void Complete(Exception? error = null) => _buffer.Writer.TryComplete(error);

    private void Close(string conversationId)
    {
        // Closed is final; replays still in flight are ignored, and the memory is released.
        _sequencers.Remove(conversationId);
        if (_closed.Add(conversationId))
        {
            _closedOrder.Enqueue(conversationId);
            if (_closedOrder.Count > RememberedClosed)
            {
                _closed.Remove(_closedOrder.Dequeue());
            }
        }

        if (ConversationId is not null)
        {
            _buffer.Writer.TryComplete(); // the conversation is over: its reader ends after the CLOSED entry
        }
    }
}

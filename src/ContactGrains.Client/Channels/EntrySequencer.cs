using ContactGrains.Protos.V1;

namespace ContactGrains.Client;

/// <summary>
/// Puts one conversation's timeline entries back in order for one reader: each sequence is released
/// once, in order, with no gap. Entries can arrive twice (a resume replays what was delivered) or
/// early (live entries overtaking a replay); early ones wait here, up to a bound, for the gap to be
/// filled, and the caller is told which sequence to resume after. Pure and single-threaded.
/// </summary>
public sealed class EntrySequencer
{
    /// <summary>Early entries kept per conversation; beyond it the furthest ones are dropped and read back later.</summary>
    public const int DefaultMaxHeld = 256;

    private readonly SortedList<ulong, TimelineEntry> _held = [];
    private readonly int _maxHeld;

    /// <summary>Starts a conversation whose entries up to <paramref name="delivered"/> the reader already has.</summary>
    public EntrySequencer(ulong delivered, int maxHeld = DefaultMaxHeld)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxHeld, 1);
        Delivered = delivered;
        _maxHeld = maxHeld;
    }

    /// <summary>The last sequence released: everything up to it reached the reader.</summary>
    public ulong Delivered { get; private set; }

    /// <summary>Entries waiting for an earlier one.</summary>
    public int Held => _held.Count;

    /// <summary>
    /// Takes one entry and adds to <paramref name="ready"/> every entry that can now be released, in
    /// order. Returns true when a gap is open after this (entries are missing before held ones): the
    /// caller should ask for everything after <see cref="Delivered"/> again.
    /// </summary>
    public bool Accept(TimelineEntry entry, List<TimelineEntry> ready)
    {
        if (entry.Sequence <= Delivered || _held.ContainsKey(entry.Sequence))
        {
            return _held.Count > 0; // a duplicate: already released or already waiting
        }

        if (entry.Sequence == Delivered + 1)
        {
            Release(entry, ready);
            while (_held.Count > 0 && _held.Keys[0] == Delivered + 1)
            {
                var next = _held.Values[0];
                _held.RemoveAt(0);
                Release(next, ready);
            }

            return _held.Count > 0;
        }

        _held[entry.Sequence] = entry;
        if (_held.Count > _maxHeld)
        {
            _held.RemoveAt(_held.Count - 1); // the furthest: a resume brings it back
        }

        return true;
    }

    /// <summary>
    /// The reader could not take <paramref name="sequence"/> after all (its buffer was full): forget
    /// that and everything after it, so a later resume brings them again.
    /// </summary>
    public void Rewind(ulong sequence)
    {
        if (sequence <= Delivered)
        {
            Delivered = sequence - 1;
        }

        _held.Clear();
    }

    private void Release(TimelineEntry entry, List<TimelineEntry> ready)
    {
        Delivered = entry.Sequence;
        ready.Add(entry);
    }
}

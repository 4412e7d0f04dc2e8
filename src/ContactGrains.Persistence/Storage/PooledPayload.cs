using System.Buffers;

namespace ContactGrains.Persistence.Storage;

/// <summary>
/// A contiguous buffer for one serialized grain state, rented from a pool and given back on
/// <see cref="Dispose"/>: the owner disposes it only once nothing reads <see cref="Written"/> any
/// more (the statement that sends it has ended).
/// </summary>
internal sealed class PooledPayload : IBufferWriter<byte>, IDisposable
{
    private const int InitialSize = 8 * 1024;

    // Not ArrayPool.Shared: a payload is held until its batch has committed, so under load hundreds
    // are out at once, more than the shared pool keeps per size; past that it allocates a new array
    // (rounded up to a power of two) for every rent, which allocated more than exact-size arrays did.
    // This pool keeps up to 1,024 arrays of each size for the life of the process: 8 MiB of the 8-KiB
    // buffers most states fit in, more only if that many states of a larger size were out at once.
    private static readonly ArrayPool<byte> Pool = ArrayPool<byte>.Create(maxArrayLength: 1024 * 1024, maxArraysPerBucket: 1024);

    private byte[] _buffer = Pool.Rent(InitialSize);
    private int _written;

    /// <summary>The bytes written so far.</summary>
    public ReadOnlyMemory<byte> Written => _buffer.AsMemory(0, _written);

    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, _buffer.Length - _written);
        _written += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Reserve(sizeHint);
        return _buffer.AsMemory(_written);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Reserve(sizeHint);
        return _buffer.AsSpan(_written);
    }

    public void Dispose()
    {
        var buffer = _buffer;
        _buffer = [];
        _written = 0;
        if (buffer.Length > 0)
        {
            Pool.Return(buffer);
        }
    }

    private void Reserve(int sizeHint)
    {
        var needed = Math.Max(sizeHint, 1);
        if (_buffer.Length - _written >= needed)
        {
            return;
        }

        ObjectDisposedException.ThrowIf(_buffer.Length == 0, this);
        var larger = Pool.Rent(Math.Max(_buffer.Length * 2, _written + needed));
        _buffer.AsSpan(0, _written).CopyTo(larger);
        Pool.Return(_buffer);
        _buffer = larger;
    }
}

using System.IO.Hashing;
using System.Runtime.CompilerServices;
using System.Text;

namespace Ring;

/// <summary>
/// The message type a segment is pinned to, as the header stores it: the type's size and a tag hashed from its full
/// name. The name, not the assembly-qualified name, so that two programs sharing a contract type by source (or by a
/// package of different versions) agree; the size catches a layout that changed under the same name.
/// </summary>
internal readonly record struct MessageType(int Size, long Tag, string Name)
{
    public static MessageType None => default;

    public bool IsNone => Size == 0;

    public static MessageType Of<T>() where T : unmanaged => Cache<T>.Value;

    public bool Matches(int size, long tag) => Size == size && Tag == tag;

    public override string ToString() => IsNone ? "bytes of any length" : $"{Name} ({Size} bytes, tag 0x{Tag:X16})";

    /// <summary>The tag of a type name; never 0, which means "not pinned".</summary>
    public static long TagOf(string name)
    {
        long tag = (long)XxHash64.HashToUInt64(Encoding.UTF8.GetBytes(name));
        return tag == 0 ? 1 : tag;
    }

    private static class Cache<T> where T : unmanaged
    {
        public static readonly MessageType Value = Create();

        private static MessageType Create()
        {
            string name = typeof(T).FullName ?? typeof(T).Name;
            return new MessageType(Unsafe.SizeOf<T>(), TagOf(name), name);
        }
    }
}

/// <summary>The segment's pinned type as an endpoint holds it, checked by every typed call (two compares when pinned, one when not).</summary>
internal readonly struct MessagePin(int size, long tag)
{
    public static MessagePin Of(RingSegment segment) => new(segment.Header.MessageSize, segment.Header.MessageTag);

    public void Check<T>() where T : unmanaged
    {
        if (size != 0 && !MessageType.Of<T>().Matches(size, tag)) RingThrow.PinnedToAnotherType(MessageType.Of<T>(), size, tag);
    }
}

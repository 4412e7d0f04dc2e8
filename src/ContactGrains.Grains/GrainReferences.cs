namespace ContactGrains.Grains;

/// <summary>
/// <c>GetGrain&lt;T&gt;(string)</c> without its cost. Orleans resolves the interface's grain type on
/// every call by formatting and parsing the interface's type name, which was about a seventh of
/// the silo's allocations per message (a message gets several grains). The two types are fixed for
/// a given interface, so they are resolved once and each reference is made from its <see cref="GrainId"/>.
/// </summary>
public static class GrainReferences
{
    /// <summary>The grain of interface <typeparamref name="T"/> with string key <paramref name="key"/>, as <c>GetGrain&lt;T&gt;(key)</c> gives it.</summary>
    public static T Get<T>(this IGrainFactory grains, string key)
        where T : IGrainWithStringKey
    {
        var types = TypesOf<T>.Resolved ??= Resolve<T>(grains);
        return (T)grains.GetGrain(GrainId.Create(types.Grain, key), types.Interface);
    }

    private static ResolvedTypes Resolve<T>(IGrainFactory grains)
        where T : IGrainWithStringKey
    {
        var reference = (GrainReference)(object)grains.GetGrain<T>("resolving-the-grain-type");
        return new ResolvedTypes(reference.GrainId.Type, reference.InterfaceType);
    }

    private sealed record ResolvedTypes(GrainType Grain, GrainInterfaceType Interface);

    // One per interface; a benign race resolves the same types twice.
    private static class TypesOf<T>
    {
        public static ResolvedTypes? Resolved;
    }
}

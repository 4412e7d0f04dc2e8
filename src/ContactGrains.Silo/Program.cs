using ContactGrains.Silo.Hosting;

var builder = WebApplication.CreateBuilder(args);
if (args is ["migrate", ..])
{
    return await ContactGrainsHosting.MigrateAsync(builder.Configuration, Console.Out, Console.Error);
}

if (!await builder.TryAddContactGrainsAsync(Console.Error))
{
    return 1;
}

var app = builder.Build();
app.MapContactGrains();
await app.RunAsync();
return 0;

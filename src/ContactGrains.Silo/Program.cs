using ContactGrains.Silo.Hosting;

// Content root is the app's folder, so appsettings.json is found whatever the working directory.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
if (args is ["migrate", ..])
{
    return await ContactGrainsHosting.MigrateAsync(builder.Configuration, Console.Out, Console.Error);
}

if (args is ["key" or "token", ..])
{
    return ContactGrains.Silo.Security.CredentialCommands.Run(args, builder.Configuration, Console.Out, Console.Error);
}

if (!await builder.TryAddContactGrainsAsync(Console.Error))
{
    return 1;
}

var app = builder.Build();
app.MapContactGrains();
await app.RunAsync();
return 0;

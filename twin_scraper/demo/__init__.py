"""The bundled sample blog and the small server that serves it on 127.0.0.1."""

document.getElementById("app").textContent = "Tracker";
